/**
 * The API's edges: every kind of bad input gets a 4xx that names the field and writes nothing;
 * a bus that cannot take a request gives 503 and leaves nothing half-written.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newSecretsKey } from '@reflex/auth';
import { createEmbeddedBus, type Bus } from '@reflex/bus';
import { busNames } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { ensureStreams } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { buildApi } from './app.ts';

const PACKS = fileURLToPath(new URL('../../../packs', import.meta.url));

const rule = {
  pack: 'demo',
  name: 'disk_alert',
  trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
  criteria: { '>': [{ var: 'payload.body.value' }, 90] },
  action: { ref: 'core.echo', parameters: { message: '{{ payload.body.host }}' } },
};

interface ErrorBody {
  error: { code: string; message: string; details: Array<{ field: string; message: string }> };
}

describe('API edges', () => {
  let store: Store;
  let bus: Bus;
  let app: FastifyInstance;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    const names = busNames('apitest');
    await ensureStreams(bus, names);
    await registerPacks(store, await discoverPacks([PACKS]));
    app = await buildApi({ store, bus, names, logger: pino({ level: 'silent' }), packsPaths: [PACKS], bodyLimitBytes: 4096, auth: { enabled: false, secretsKey: newSecretsKey() } });
  });

  afterEach(async () => {
    await app.close();
    await bus.close();
    await store.close();
  });

  const fields = (body: unknown): string[] => (body as ErrorBody).error.details.map((d) => d.field);

  it('creates, reads, replaces and deletes a rule', async () => {
    const created = await app.inject({ method: 'POST', url: '/v1/rules', payload: rule });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ ref: 'demo.disk_alert', enabled: true, source: 'api' });
    expect((await app.inject({ method: 'POST', url: '/v1/rules', payload: rule })).statusCode).toBe(409);
    const replaced = await app.inject({ method: 'PUT', url: '/v1/rules/demo.disk_alert', payload: { ...rule, enabled: false } });
    expect(replaced.statusCode).toBe(200);
    expect((await app.inject({ url: '/v1/rules/demo.disk_alert' })).json()).toMatchObject({ enabled: false });
    expect((await app.inject({ url: '/v1/rules?enabled=false&pack=demo' })).json().items).toHaveLength(1);
    expect((await app.inject({ method: 'DELETE', url: '/v1/rules/demo.disk_alert' })).statusCode).toBe(204);
    expect((await app.inject({ url: '/v1/rules/demo.disk_alert' })).statusCode).toBe(404);
  });

  it.each([
    ['a missing field', { ...rule, action: undefined }, 'body.action'],
    ['an unknown field', { ...rule, extra: 1 }, 'body.extra'],
    ['a bad name', { ...rule, name: 'has space' }, 'body.name'],
    ['an unknown trigger type', { ...rule, trigger: { type: 'core.nope' } }, 'body.trigger.type'],
    ['bad trigger parameters', { ...rule, trigger: { type: 'core.webhook', parameters: { url: 7 } } }, 'body.trigger.parameters.url'],
    ['an unknown action', { ...rule, action: { ref: 'core.nope' } }, 'body.action.ref'],
    ['an unknown JSON-logic operator', { ...rule, criteria: { frobnicate: [1, 2] } }, 'body.criteria'],
    ['a dangerous var path', { ...rule, criteria: { '==': [{ var: 'payload.__proto__.x' }, 1] } }, 'body.criteria'],
    ['a constructor var path', { ...rule, criteria: { '==': [{ var: 'payload.constructor' }, 1] } }, 'body.criteria'],
    ['a broken template', { ...rule, action: { ref: 'core.echo', parameters: { message: '{{ payload.body.host ' } } }, 'body.action.parameters.message'],
    ['a missing required action parameter', { ...rule, action: { ref: 'core.echo', parameters: {} } }, 'body.action.parameters.message'],
    ['an unknown action parameter', { ...rule, action: { ref: 'core.echo', parameters: { message: 'x', colour: 'red' } } }, 'body.action.parameters.colour'],
    ['a literal value of the wrong type', { ...rule, action: { ref: 'core.echo', parameters: { message: 42 } } }, 'body.action.parameters.message'],
    ['a template in a shell script', { ...rule, action: { ref: 'core.local', parameters: { cmd: 'echo {{ payload.body.host }}', shell: true } } }, 'body.action.parameters.cmd'],
  ])('refuses a rule with %s, naming the field, storing nothing', async (_what, payload, field) => {
    const res = await app.inject({ method: 'POST', url: '/v1/rules', payload });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.code).toBe('VALIDATION_FAILED');
    expect(fields(res.json()).some((f) => f.startsWith(field))).toBe(true);
    expect(await store.rules.list({ source: 'api' })).toEqual([]);
  });

  it('refuses a rule nested deeper than the limit', async () => {
    let criteria: unknown = { '==': [1, 1] };
    for (let i = 0; i < 200; i++) criteria = { '!': [criteria] };
    const res = await app.inject({ method: 'POST', url: '/v1/rules', payload: { ...rule, criteria } });
    expect(res.statusCode).toBe(400);
    expect(await store.rules.list({ source: 'api' })).toEqual([]);
  });

  it('refuses a PUT whose body names another rule', async () => {
    const res = await app.inject({ method: 'PUT', url: '/v1/rules/demo.other', payload: rule });
    expect(res.statusCode).toBe(400);
    expect(fields(res.json())).toContain('body.name');
  });

  it('answers malformed JSON with 400', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/rules', headers: { 'content-type': 'application/json' }, payload: '{"pack": ' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details[0].field).toBe('body');
  });

  it('answers prototype-pollution keys with 400 and pollutes nothing', async () => {
    await app.inject({ method: 'POST', url: '/v1/rules', payload: rule });
    const res = await app.inject({
      method: 'POST',
      url: '/v1/webhooks/alerts',
      headers: { 'content-type': 'application/json' },
      payload: '{"__proto__": {"polluted": true}, "value": 1}',
    });
    expect(res.statusCode).toBe(400);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('answers a body over the limit with 413', async () => {
    await app.inject({ method: 'POST', url: '/v1/rules', payload: rule });
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/alerts', payload: { big: 'x'.repeat(10_000) } });
    expect(res.statusCode).toBe(413);
    expect(res.json().error.code).toBe('PAYLOAD_TOO_LARGE');
  });

  it('answers an unknown webhook url with 404', async () => {
    const res = await app.inject({ method: 'POST', url: '/v1/webhooks/nobody-listens', payload: {} });
    expect(res.statusCode).toBe(404);
    expect(res.json().error.code).toBe('NOT_FOUND');
  });

  it('accepts a webhook for a rule url, including nested urls and form bodies', async () => {
    await app.inject({ method: 'POST', url: '/v1/rules', payload: { ...rule, trigger: { type: 'core.webhook', parameters: { url: 'team/alerts' } } } });
    const json = await app.inject({ method: 'POST', url: '/v1/webhooks/team/alerts?source=x', payload: { a: 1 } });
    expect(json.statusCode).toBe(202);
    const form = await app.inject({
      method: 'POST',
      url: '/v1/webhooks/team/alerts',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'text=hello&user=ann',
    });
    expect(form.statusCode).toBe(202);
  });

  it('validates dispatched events against the trigger type', async () => {
    const unknown = await app.inject({ method: 'POST', url: '/v1/events', payload: { type: 'core.nope', payload: {} } });
    expect(unknown.statusCode).toBe(400);
    expect(fields(unknown.json())).toContain('body.type');
    const badPayload = await app.inject({ method: 'POST', url: '/v1/events', payload: { type: 'core.interval', payload: { executed_at: 5 } } });
    expect(badPayload.statusCode).toBe(400);
    expect(fields(badPayload.json()).some((f) => f.startsWith('payload'))).toBe(true);
    const ok = await app.inject({ method: 'POST', url: '/v1/events', payload: { type: 'core.interval', payload: { executed_at: new Date().toISOString(), schedule: {} } } });
    expect(ok.statusCode).toBe(202);
  });

  it('validates manual execution parameters and knows its actions', async () => {
    const unknown = await app.inject({ method: 'POST', url: '/v1/executions', payload: { action: 'core.nope' } });
    expect(unknown.statusCode).toBe(404);
    const bad = await app.inject({ method: 'POST', url: '/v1/executions', payload: { action: 'core.echo', parameters: { message: 5 } } });
    expect(bad.statusCode).toBe(400);
    expect(fields(bad.json())).toContain('body.parameters.message');
    const missing = await app.inject({ method: 'POST', url: '/v1/executions', payload: { action: 'core.echo', parameters: {} } });
    expect(missing.statusCode).toBe(400);
    expect(fields(missing.json())).toContain('body.parameters.message');
    expect((await store.executions.list({})).items).toEqual([]);
  });

  it('answers bad query strings with 400 naming the parameter', async () => {
    const res = await app.inject({ url: '/v1/executions?status=bogus' });
    expect(res.statusCode).toBe(400);
    expect(fields(res.json())[0]).toMatch(/^querystring\.status/);
  });

  it('answers 503 and writes nothing when the bus is down', async () => {
    await app.inject({ method: 'POST', url: '/v1/rules', payload: rule });
    await bus.close();
    const hook = await app.inject({ method: 'POST', url: '/v1/webhooks/alerts', payload: { value: 99 } });
    expect(hook.statusCode).toBe(503);
    expect(hook.json().error.code).toBe('UNAVAILABLE');
    const exec = await app.inject({ method: 'POST', url: '/v1/executions', payload: { action: 'core.echo', parameters: { message: 'x' } } });
    expect(exec.statusCode).toBe(503);
    expect((await store.executions.list({})).items).toEqual([]);
    expect((await store.events.list({})).items).toEqual([]);
    const health = await app.inject({ url: '/v1/health' });
    expect(health.statusCode).toBe(503);
  });

  it('serves the OpenAPI description', async () => {
    const res = await app.inject({ url: '/docs/json' });
    expect(res.statusCode).toBe(200);
    expect(Object.keys(res.json().paths)).toEqual(expect.arrayContaining(['/v1/rules', '/v1/webhooks/{*}', '/v1/executions']));
  });
});
