/**
 * Secrets stay secret, end to end in one embedded process: after a run that uses API keys, a token,
 * webhook secrets (HMAC and shared token) and secret action parameters — successfully and in failing
 * requests — none of them appears in any API answer (bodies and headers, errors included) or in any
 * log line (pino at debug). And shell metacharacters in parameters reach a command as plain data.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hmacSettingsOf, signWebhook } from '@reflex/auth';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import { loadConfig } from '@reflex/runtime';
import { adminKeyOf } from '../support/api-client.ts';
import { waitFor } from '../support/wait.ts';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));

const VAULT_PACK: Record<string, string> = {
  'pack.yaml': 'name: vault\nversion: 0.1.0\ndescription: secrets test\n',
  'actions/deploy.yaml': [
    'name: deploy',
    'runner_type: noop',
    'enabled: true',
    'parameters:',
    '  service: { type: string, required: true }',
    '  token: { type: string, secret: true }',
    '',
  ].join('\n'),
};

interface Answer {
  status: number;
  body: string;
  json: () => Record<string, unknown>;
}

describe('secrets never leak', () => {
  let dir: string;
  let reflex: Launched;
  const logLines: string[] = [];
  const answers: string[] = [];
  /** The answers that show a new key or token: the one place it may appear, once. */
  const shownOnce: string[] = [];
  const secrets = new Map<string, string>();

  const call = async (
    method: string,
    path: string,
    options: { key?: string; body?: string | object; headers?: Record<string, string>; showsSecret?: boolean } = {},
  ): Promise<Answer> => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key !== undefined) headers['authorization'] = `Bearer ${options.key}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      body = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(new URL(path, reflex.url), { method, headers, ...(body === undefined ? {} : { body }) });
    const text = await res.text();
    (options.showsSecret === true ? shownOnce : answers).push(`${res.status} ${JSON.stringify([...res.headers.entries()])} ${text}`);
    return { status: res.status, body: text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-secrets-'));
    for (const [file, text] of Object.entries(VAULT_PACK)) {
      mkdirSync(join(dir, 'packs', 'vault', file, '..'), { recursive: true });
      writeFileSync(join(dir, 'packs', 'vault', file), text);
    }
    const dataDir = join(dir, 'data');
    const config = loadConfig({}, { port: 0, dataDir, packsPaths: [PACKS, join(dir, 'packs')], logLevel: 'debug' });
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }), { env: process.env });
    secrets.set('admin key', adminKeyOf(dataDir));
  });

  afterAll(async () => {
    await reflex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps keys, tokens, webhook secrets and secret parameters out of every answer and log line', async () => {
    const admin = secrets.get('admin key') as string;

    // Keys and tokens.
    const viewer = await call('POST', '/v1/apikeys', { key: admin, body: { name: 'ci', role: 'operator' }, showsSecret: true });
    expect(viewer.status).toBe(201);
    const viewerKey = viewer.json()['key'] as string;
    secrets.set('operator key', viewerKey);
    const token = await call('POST', '/v1/auth/tokens', { key: viewerKey, body: {}, showsSecret: true });
    secrets.set('token', token.json()['token'] as string);

    // Webhook secrets, and a rule on each url.
    secrets.set('hmac secret', 'hmac-secret-of-the-github-hook-0001');
    secrets.set('shared token', 'shared-token-of-the-alert-hook-0002');
    expect((await call('PUT', '/v1/webhook-auth/gh', { key: admin, body: { type: 'hmac', preset: 'github', secret: secrets.get('hmac secret') } })).status).toBe(201);
    expect((await call('PUT', '/v1/webhook-auth/alerts', { key: admin, body: { type: 'token', token: secrets.get('shared token') } })).status).toBe(201);
    // A bad settings body that carries a secret: refused without echoing it.
    secrets.set('refused secret', 'secret-in-a-refused-body-0003');
    expect((await call('PUT', '/v1/webhook-auth/gh', { key: admin, body: { type: 'hmac', secret: secrets.get('refused secret'), algorithm: 'md5' } })).status).toBe(400);
    for (const url of ['gh', 'alerts']) {
      const rule = { pack: 'demo', name: url, trigger: { type: 'core.webhook', parameters: { url } }, action: { ref: 'core.echo', parameters: { message: '{{ payload.body.text }}' } } };
      expect((await call('POST', '/v1/rules', { key: token.json()['token'] as string, body: rule })).status).toBe(201);
    }

    // Webhooks: signed and token, good and bad.
    const body = JSON.stringify({ text: 'deploy done' });
    const signature = signWebhook(hmacSettingsOf({ preset: 'github' }), secrets.get('hmac secret') as string, Buffer.from(body));
    expect((await call('POST', '/v1/webhooks/gh', { body, headers: { 'x-hub-signature-256': signature } })).status).toBe(202);
    expect((await call('POST', '/v1/webhooks/gh', { body, headers: { 'x-hub-signature-256': `${signature.slice(0, -2)}00` } })).status).toBe(401);
    expect((await call('POST', '/v1/webhooks/alerts', { body, headers: { 'x-reflex-webhook-token': secrets.get('shared token') as string } })).status).toBe(202);
    expect((await call('POST', '/v1/webhooks/alerts', { body, headers: { 'x-reflex-webhook-token': `${secrets.get('shared token')}-wrong` } })).status).toBe(401);

    // Secret action parameters: a run, a refused run, a malformed body, a re-run with a new one.
    secrets.set('secret parameter', 'deploy-token-value-0004');
    secrets.set('replaced secret parameter', 'deploy-token-value-0005');
    const run = await call('POST', '/v1/executions', { key: viewerKey, body: { action: 'vault.deploy', parameters: { service: 'web', token: secrets.get('secret parameter') } } });
    expect(run.status).toBe(201);
    const id = run.json()['id'] as string;
    const refused = await call('POST', '/v1/executions', { key: viewerKey, body: { action: 'vault.deploy', parameters: { service: 5, token: secrets.get('secret parameter') } } });
    expect(refused.status).toBe(400);
    const malformed = await call('POST', '/v1/executions', { key: viewerKey, body: `{"action":"vault.deploy","parameters":{"token":"${secrets.get('secret parameter')}"` });
    expect(malformed.status).toBe(400);
    const rerun = await call('POST', `/v1/executions/${id}/re-run`, { key: viewerKey, body: { parameters: { token: secrets.get('replaced secret parameter') } } });
    expect(rerun.status).toBe(201);
    await waitFor(async () => ((await call('GET', `/v1/executions/${rerun.json()['id'] as string}`, { key: admin })).json()['status'] === 'succeeded' ? true : undefined), 'the re-run');

    // A revoked key, and keys that are almost right.
    await call('DELETE', `/v1/apikeys/${viewer.json()['id'] as string}`, { key: admin });
    expect((await call('GET', '/v1/rules', { key: viewerKey })).status).toBe(401);
    expect((await call('GET', '/v1/rules', { headers: { 'x-reflex-api-key': `${admin}0` } })).status).toBe(401);

    // Everything there is to read.
    await waitFor(async () => (((await call('GET', '/v1/events', { key: admin })).json()['items'] as unknown[]).length >= 2 ? true : undefined), 'the webhook events');
    for (const path of ['/v1/executions', `/v1/executions/${id}`, `/v1/executions/${id}/output`, '/v1/events', '/v1/audit?limit=1000', '/v1/apikeys?includeRevoked=true', '/v1/apikeys?kind=token', '/v1/webhook-auth', '/v1/webhook-auth/gh', '/v1/webhooks/stats', '/v1/rules', '/v1/auth/whoami']) {
      expect((await call('GET', path, { key: admin })).status).toBe(200);
    }
    await reflex.stop();

    const everything = { answers: answers.join('\n'), logs: logLines.join('') };
    expect(answers.length).toBeGreaterThan(25);
    expect(logLines.length).toBeGreaterThan(20);
    for (const [what, secret] of secrets) {
      for (const [where, text] of Object.entries(everything)) expect(text.includes(secret), `${what} in ${where}`).toBe(false);
      expect(shownOnce.filter((answer) => answer.includes(secret)).length, `${what} shown more than once`).toBeLessThanOrEqual(1);
    }
    process.stdout.write(`[secrets] ${secrets.size} secrets checked against ${answers.length} API answers and ${logLines.length} log lines: none found\n`);
  });
});

describe('shell metacharacters in parameters', () => {
  it('reach the command as one argv entry, never through a shell', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-argv-'));
    const config = loadConfig({}, { port: 0, dataDir: dir, packsPaths: [PACKS], logLevel: 'silent' });
    const reflex = await launch(config, SERVICE_NAMES, pino({ level: 'silent' }), { env: process.env });
    try {
      const key = adminKeyOf(dir);
      const hostile = `$(touch ${join(dir, 'pwned')}); \`id\` | cat && echo "$HOME" > ${join(dir, 'pwned2')} * ~ \\n'`;
      const res = await fetch(new URL('/v1/executions', reflex.url), {
        method: 'POST',
        headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ action: 'core.local', parameters: { cmd: 'printf', args: ['%s', hostile] } }),
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      const done = await waitFor(async () => {
        const got = (await (await fetch(new URL(`/v1/executions/${id}`, reflex.url), { headers: { authorization: `Bearer ${key}` } })).json()) as {
          status: string;
          result?: { stdout?: string };
        };
        return ['succeeded', 'failed'].includes(got.status) ? got : undefined;
      }, 'the printf execution');
      expect(done.status).toBe('succeeded');
      expect(done.result?.stdout).toBe(hostile);
      const { existsSync } = await import('node:fs');
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
      expect(existsSync(join(dir, 'pwned2'))).toBe(false);
    } finally {
      await reflex.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
