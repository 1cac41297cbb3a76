/**
 * Webhook authentication, each mode good, bad, missing and replayed: a refused request is a 401 (403
 * for a key without the permission), counted in /v1/webhooks/stats, logged, and never published as
 * an event. Secrets are write-only.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hmacSettingsOf, sealSecret, signWebhook, type HmacSettings } from '@reflex/auth';
import type { Consumer } from '@reflex/bus';
import type { ReflexEvent, Rule } from '@reflex/model';
import { bearer, makeKey, startTestApi, type TestApi } from './testing.ts';

const GITHUB_SECRET = 'gh-webhook-secret-0123456789abcdef';
const SLACK_SECRET = 'slack-signing-secret-0123456789abcdef';
const GENERIC_SECRET = 'generic-secret-0123456789abcdef';
const SHARED_TOKEN = 'shared-token-0123456789abcdef';

function ruleOn(url: string): Rule {
  const now = new Date().toISOString();
  const name = url.replace(/[^A-Za-z0-9]/g, '_');
  return {
    ref: `hooks.${name}`,
    pack: 'hooks',
    name,
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url } },
    action: { ref: 'core.noop' },
    source: 'api',
    createdAt: now,
    updatedAt: now,
  };
}

describe('webhook authentication', () => {
  let t: TestApi;
  let consumer: Consumer;
  const published: ReflexEvent[] = [];
  const admin = (): Record<string, string> => bearer(t.adminKey);
  const post = (url: string, body: string, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: `/v1/webhooks/${url}`, payload: body, headers: { 'content-type': 'application/json', ...headers } });
  const configure = async (url: string, payload: object) => {
    const res = await t.app.inject({ method: 'PUT', url: `/v1/webhook-auth/${url}`, headers: admin(), payload });
    expect(res.statusCode, res.body).toBe(201);
    return res;
  };
  const stats = async (url: string) =>
    ((await t.app.inject({ url: '/v1/webhooks/stats', headers: admin() })).json().items as Array<{ url: string; accepted: number; rejected: Record<string, number> }>).find((s) => s.url === url);
  const settle = () => new Promise((r) => setTimeout(r, 150));

  beforeEach(async () => {
    t = await startTestApi({ auth: true });
    for (const url of ['gh', 'slack', 'tok', 'key', 'team/generic', 'open']) await t.store.rules.insert(ruleOn(url));
    published.length = 0;
    consumer = await t.bus.consume({ stream: t.names.eventsStream, durable: 'webhook-test' }, async (m) => {
      published.push(m.json<ReflexEvent>());
      await m.ack();
    });
  });

  afterEach(async () => {
    await consumer.stop();
    await t.close();
  });

  it('GitHub style: X-Hub-Signature-256 sha256=<hex> over the raw body', async () => {
    const res = await configure('gh', { type: 'hmac', preset: 'github', secret: GITHUB_SECRET });
    expect(res.json()).toMatchObject({ url: 'gh', type: 'hmac', header: 'x-hub-signature-256', prefix: 'sha256=', hasSecret: true });
    expect(res.body).not.toContain(GITHUB_SECRET);
    const settings = hmacSettingsOf({ preset: 'github' });
    // Whitespace and key order as sent: the signature covers the exact bytes.
    const body = '{ "action": "opened",  "number": 7 }';
    const good = await post('gh', body, { 'x-hub-signature-256': signWebhook(settings, GITHUB_SECRET, Buffer.from(body)) });
    expect(good.statusCode).toBe(202);

    const bad = await post('gh', body, { 'x-hub-signature-256': signWebhook(settings, 'not-the-secret-0123456789', Buffer.from(body)) });
    expect(bad.statusCode).toBe(401);
    expect(bad.json().error.code).toBe('WEBHOOK_UNAUTHENTICATED');
    const tampered = await post('gh', body.replace('7', '8'), { 'x-hub-signature-256': signWebhook(settings, GITHUB_SECRET, Buffer.from(body)) });
    expect(tampered.statusCode).toBe(401);
    const missing = await post('gh', body);
    expect(missing.statusCode).toBe(401);
    expect(missing.json().error.message).toContain('missing');

    await settle();
    expect(published.map((e) => (e.payload as { body: unknown }).body)).toEqual([{ action: 'opened', number: 7 }]);
    expect(await stats('gh')).toMatchObject({ accepted: 1, rejected: { bad: 2, missing: 1, expired: 0, replayed: 0 } });
  });

  it('Slack style: v0:<timestamp>:<body>, within the tolerance, once only', async () => {
    await configure('slack', { type: 'hmac', preset: 'slack', secret: SLACK_SECRET });
    const settings = hmacSettingsOf({ preset: 'slack' });
    const body = 'token=x&text=hello';
    const signed = (ts: number) => ({
      'content-type': 'application/x-www-form-urlencoded',
      'x-slack-request-timestamp': String(ts),
      'x-slack-signature': signWebhook(settings, SLACK_SECRET, Buffer.from(body), String(ts)),
    });
    const now = Math.floor(Date.now() / 1000);
    const first = signed(now);
    expect((await post('slack', body, first)).statusCode).toBe(202);
    const replayed = await post('slack', body, first);
    expect(replayed.statusCode).toBe(401);
    expect(replayed.json().error.message).toContain('already received');
    expect((await post('slack', body, signed(now - 3600))).statusCode).toBe(401);
    expect((await post('slack', body, { ...first, 'x-slack-request-timestamp': String(now + 1) })).statusCode).toBe(401);
    const { 'x-slack-request-timestamp': _ts, ...noTimestamp } = signed(now + 2);
    expect((await post('slack', body, noTimestamp)).statusCode).toBe(401);
    await settle();
    expect(published).toHaveLength(1);
    expect(published[0]?.payload).toMatchObject({ body: { token: 'x', text: 'hello' } });
    expect(await stats('slack')).toMatchObject({ accepted: 1, rejected: { replayed: 1, expired: 1, bad: 1, missing: 1 } });
  });

  it('generic HMAC: any header, algorithm, prefix and encoding, with a timestamp header', async () => {
    const input = { header: 'X-Signature', algorithm: 'sha512', prefix: 'hmac=', encoding: 'base64', timestampHeader: 'X-Timestamp', toleranceSeconds: 60 } as const;
    await configure('team/generic', { type: 'hmac', secret: GENERIC_SECRET, ...input });
    const settings: HmacSettings = hmacSettingsOf(input);
    expect(settings.signedPayload).toBe('{timestamp}.{body}');
    const body = '{"ok":true}';
    const ts = String(Date.now());
    const good = await post('team/generic', body, { 'x-signature': signWebhook(settings, GENERIC_SECRET, Buffer.from(body), ts), 'x-timestamp': ts });
    expect(good.statusCode).toBe(202);
    const old = String(Date.now() - 120_000);
    expect((await post('team/generic', body, { 'x-signature': signWebhook(settings, GENERIC_SECRET, Buffer.from(body), old), 'x-timestamp': old })).statusCode).toBe(401);
  });

  it('shared token in a header: compared as a digest, and never stored with the event', async () => {
    const res = await configure('tok', { type: 'token', token: SHARED_TOKEN, header: 'X-Hook-Token' });
    expect(res.json()).toEqual(expect.objectContaining({ type: 'token', header: 'x-hook-token', hasSecret: true }));
    expect(JSON.stringify(await t.store.webhookAuth.get('tok'))).not.toContain(SHARED_TOKEN);
    expect((await post('tok', '{"a":1}', { 'x-hook-token': SHARED_TOKEN })).statusCode).toBe(202);
    expect((await post('tok', '{"a":1}', { 'x-hook-token': `${SHARED_TOKEN}x` })).statusCode).toBe(401);
    expect((await post('tok', '{"a":1}')).statusCode).toBe(401);
    await settle();
    expect(published).toHaveLength(1);
    expect(JSON.stringify(published[0])).not.toContain(SHARED_TOKEN);
    expect(await stats('tok')).toMatchObject({ accepted: 1, rejected: { bad: 1, missing: 1 } });
  });

  it('API key: a key whose role may post to webhooks; a viewer’s key is forbidden; keys never reach the event', async () => {
    await configure('key', { type: 'apikey' });
    const operator = await makeKey(t.store, 'operator');
    const viewer = await makeKey(t.store, 'viewer');
    expect((await post('key', '{}', bearer(operator))).statusCode).toBe(202);
    expect((await post('key', '{}', { 'x-reflex-api-key': operator })).statusCode).toBe(202);
    const forbidden = await post('key', '{}', bearer(viewer));
    expect(forbidden.statusCode).toBe(403);
    expect(forbidden.json().error.code).toBe('WEBHOOK_FORBIDDEN');
    expect((await post('key', '{}', bearer(`${operator}x`))).statusCode).toBe(401);
    expect((await post('key', '{}')).statusCode).toBe(401);
    await settle();
    expect(published).toHaveLength(2);
    expect(JSON.stringify(published)).not.toContain(operator);
    expect(await stats('key')).toMatchObject({ accepted: 2, rejected: { forbidden: 1, bad: 1, missing: 1 } });
  });

  it('takes a replaced secret into account at once', async () => {
    await configure('gh', { type: 'hmac', preset: 'github', secret: GITHUB_SECRET });
    const settings = hmacSettingsOf({ preset: 'github' });
    const sign = (secret: string) => ({ 'x-hub-signature-256': signWebhook(settings, secret, Buffer.from('{}')) });
    expect((await post('gh', '{}', sign(GITHUB_SECRET))).statusCode).toBe(202);
    const replaced = await t.app.inject({ method: 'PUT', url: '/v1/webhook-auth/gh', headers: admin(), payload: { type: 'hmac', preset: 'github', secret: `${GITHUB_SECRET}-v2` } });
    expect(replaced.statusCode).toBe(200);
    expect((await post('gh', '{}', sign(GITHUB_SECRET))).statusCode).toBe(401);
    expect((await post('gh', '{}', sign(`${GITHUB_SECRET}-v2`))).statusCode).toBe(202);
  });

  it('refuses a protected url before saying whether it exists; open urls stay open', async () => {
    await configure('ghost', { type: 'token', token: SHARED_TOKEN });
    expect((await post('ghost', '{}')).statusCode).toBe(401);
    expect((await post('ghost', '{}', { 'x-reflex-webhook-token': SHARED_TOKEN })).statusCode).toBe(404);
    expect((await post('open', '{}')).statusCode).toBe(202);
    expect((await post('nobody-here', '{}')).statusCode).toBe(404);
  });

  it('never shows a secret: list, get, and the stored record', async () => {
    await configure('gh', { type: 'hmac', preset: 'github', secret: GITHUB_SECRET });
    await configure('tok', { type: 'token', token: SHARED_TOKEN });
    const list = await t.app.inject({ url: '/v1/webhook-auth', headers: admin() });
    const one = await t.app.inject({ url: '/v1/webhook-auth/gh', headers: admin() });
    for (const body of [list.body, one.body, JSON.stringify(await t.store.webhookAuth.list())]) {
      expect(body).not.toContain(GITHUB_SECRET);
      expect(body).not.toContain(SHARED_TOKEN);
    }
    expect(list.body).not.toContain('sealedSecret');
    expect(list.body).not.toContain('tokenHash');
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/webhook-auth/gh', headers: admin() })).statusCode).toBe(204);
    expect((await post('gh', '{}')).statusCode).toBe(202); // open again
  });

  it('refuses webhook auth settings that would protect nothing', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/v1/webhook-auth/gh', headers: admin(), payload: { type: 'hmac', secret: GITHUB_SECRET, timestampHeader: 'x-ts', signedPayload: '{body}' } });
    expect(res.statusCode).toBe(400);
    expect((await t.app.inject({ method: 'PUT', url: '/v1/webhook-auth/gh', headers: admin(), payload: { type: 'hmac', secret: 'short' } })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'PUT', url: '/v1/webhook-auth/../etc', headers: admin(), payload: { type: 'apikey' } })).statusCode).toBeGreaterThanOrEqual(400);
    expect(await t.store.webhookAuth.list()).toEqual([]);
  });
});

describe('open webhooks', () => {
  it('are logged once per url at start, and refusals at most once a minute per url', async () => {
    const lines: string[] = [];
    const t = await startTestApi({ auth: true, logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) });
    try {
      await t.store.rules.insert(ruleOn('open1'));
      await t.store.rules.insert(ruleOn('closed'));
      const now = new Date().toISOString();
      await t.store.webhookAuth.put({ url: 'closed', type: 'hmac', header: 'x-sig', sealedSecret: sealSecret(t.secretsKey, GITHUB_SECRET, 'closed'), createdAt: now, updatedAt: now });
      await t.app.ready();
      for (let i = 0; i < 3; i++) await t.app.inject({ method: 'POST', url: '/v1/webhooks/open1', payload: {} });
      for (let i = 0; i < 3; i++) await t.app.inject({ method: 'POST', url: '/v1/webhooks/closed', payload: {} });
      expect(lines.filter((l) => l.includes("webhook 'open1' is open"))).toHaveLength(1);
      expect(lines.filter((l) => l.includes("'closed' is open"))).toHaveLength(0);
      expect(lines.filter((l) => l.includes('webhook request refused'))).toHaveLength(1);
      expect(lines.join('\n')).not.toContain(GITHUB_SECRET);
    } finally {
      await t.close();
    }
  });
});
