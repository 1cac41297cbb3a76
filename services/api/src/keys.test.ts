/**
 * The datastore API: values of any JSON type by scope and name, secrets sealed at rest and masked
 * unless an authorised caller asks to decrypt, TTLs, errors that name the field, audit and change
 * notices; and enabling/disabling a rule without changing its source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJson } from '@reflex/bus';
import { newId, SECRET_MASK, type Execution, type Rule } from '@reflex/model';
import { bearer, makeKey, startTestApi, type TestApi } from './testing.ts';

describe('datastore API', () => {
  let t: TestApi;
  let operator: string;
  let viewer: string;
  let linuxReader: string;
  const notices: Array<{ topic: string; op: string; ref?: string }> = [];

  const call = async (method: 'GET' | 'PUT' | 'DELETE' | 'POST' | 'PATCH', url: string, options: { key?: string; body?: unknown } = {}) => {
    const res = await t.app.inject({
      method,
      url,
      headers: bearer(options.key ?? t.adminKey),
      ...(options.body === undefined ? {} : { payload: options.body as object }),
    });
    return { status: res.statusCode, body: res.body === '' ? null : res.json() };
  };

  beforeAll(async () => {
    t = await startTestApi({ auth: true });
    operator = await makeKey(t.store, 'operator');
    viewer = await makeKey(t.store, 'viewer');
    const now = new Date().toISOString();
    await t.store.roles.put({ name: 'linux-keys', grants: [{ permissions: ['keys:read', 'keys:write'], scope: ['linux.*'] }], createdAt: now, updatedAt: now });
    linuxReader = await makeKey(t.store, 'linux-keys');
    t.bus.subscribe(t.names.controlSubject('keys'), (_subject, data) => notices.push(decodeJson(data)));
  });

  afterAll(async () => {
    await t.close();
  });

  it('keeps values of any JSON type; PUT answers 201 then 200; lists by prefix; deletes', async () => {
    const values = { 'oncall': 'ana', 'disk.limit': 90, 'flags': { loud: true, channels: ['#ops'] }, 'empty': null, 'list': [1, 'two'] };
    for (const [name, value] of Object.entries(values)) {
      const res = await call('PUT', `/v1/keys/system/${name}`, { body: { value } });
      expect(res.status, name).toBe(201);
      expect(res.body).toMatchObject({ scope: 'system', name, value, secret: false });
    }
    expect((await call('PUT', '/v1/keys/system/oncall', { body: { value: 'bo' } })).status).toBe(200);
    expect((await call('GET', '/v1/keys/system/oncall')).body).toMatchObject({ value: 'bo', secret: false });
    expect((await call('GET', '/v1/keys/system/flags')).body.value).toEqual(values.flags);

    const listed = await call('GET', '/v1/keys?prefix=disk.');
    expect(listed.body.items.map((k: { name: string }) => k.name)).toEqual(['disk.limit']);
    const all = await call('GET', '/v1/keys?scope=system');
    expect(all.body.items.map((k: { name: string }) => k.name)).toEqual(['disk.limit', 'empty', 'flags', 'list', 'oncall']);

    expect((await call('DELETE', '/v1/keys/system/empty')).status).toBe(204);
    expect((await call('GET', '/v1/keys/system/empty')).status).toBe(404);
    expect((await call('DELETE', '/v1/keys/system/empty')).status).toBe(404);
  });

  it('seals a secret at rest, masks it in every answer, and decrypts it only for keys:decrypt', async () => {
    const plaintext = 'hunter2-very-secret';
    const put = await call('PUT', '/v1/keys/system/db.password', { body: { value: plaintext, secret: true } });
    expect(put.status).toBe(201);
    expect(put.body).toMatchObject({ value: SECRET_MASK, secret: true });

    // The stored row holds sealed text, never the plaintext.
    const raw = await t.store.keys.get('system', 'db.password');
    expect(raw?.secret).toBe(true);
    expect(typeof raw?.value).toBe('string');
    expect(String(raw?.value)).toMatch(/^v1\./);
    expect(JSON.stringify(raw)).not.toContain(plaintext);

    for (const key of [t.adminKey, operator, viewer]) {
      const got = await call('GET', '/v1/keys/system/db.password', { key });
      expect(got.status).toBe(200);
      expect(got.body.value).toBe(SECRET_MASK);
      const listed = await call('GET', '/v1/keys?prefix=db.', { key });
      expect(JSON.stringify(listed.body)).not.toContain(plaintext);
    }
    const decrypted = await call('GET', '/v1/keys/system/db.password?decrypt=true');
    expect(decrypted.body).toMatchObject({ value: plaintext, secret: true });
    expect((await call('GET', '/v1/keys?prefix=db.&decrypt=true')).body.items[0].value).toBe(plaintext);
    for (const key of [operator, viewer]) {
      const refused = await call('GET', '/v1/keys/system/db.password?decrypt=true', { key });
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe('FORBIDDEN');
      expect(JSON.stringify(refused.body)).not.toContain(plaintext);
      expect((await call('GET', '/v1/keys?decrypt=true', { key })).status).toBe(403);
    }

    // Secrets of any JSON type; replacing a secret keeps it secret unless told otherwise.
    await call('PUT', '/v1/keys/system/db.creds', { body: { value: { user: 'ci', pass: 'p4ss-word' }, secret: true } });
    expect((await call('GET', '/v1/keys/system/db.creds?decrypt=true')).body.value).toEqual({ user: 'ci', pass: 'p4ss-word' });
    const replaced = await call('PUT', '/v1/keys/system/db.password', { body: { value: 'rotated-secret' }, key: operator });
    expect(replaced.body).toMatchObject({ value: SECRET_MASK, secret: true });
    expect(JSON.stringify(await t.store.keys.get('system', 'db.password'))).not.toContain('rotated-secret');
    const opened = await call('PUT', '/v1/keys/system/db.password', { body: { value: 'now-public', secret: false } });
    expect(opened.body).toMatchObject({ value: 'now-public', secret: false });
  });

  it('expires entries after ttlSeconds or at expiresAt', async () => {
    const put = await call('PUT', '/v1/keys/system/short', { body: { value: 1, ttlSeconds: 1 } });
    expect(put.status).toBe(201);
    const expiresAt = Date.parse(put.body.expiresAt);
    expect(expiresAt - Date.now()).toBeGreaterThan(0);
    expect(expiresAt - Date.now()).toBeLessThanOrEqual(1000);
    const at = new Date(Date.now() + 3_600_000).toISOString();
    expect((await call('PUT', '/v1/keys/system/later', { body: { value: 2, expiresAt: at } })).body.expiresAt).toBe(at);
    expect((await call('GET', '/v1/keys/system/short')).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100));
    expect((await call('GET', '/v1/keys/system/short')).status).toBe(404);
    expect((await call('GET', '/v1/keys/system/later')).status).toBe(200);
    expect((await call('GET', '/v1/keys?prefix=short')).body.items).toEqual([]);
  });

  it('refuses bad input with a 4xx naming the field, and changes nothing', async () => {
    const cases: Array<[string, string, unknown, string]> = [
      ['PUT', '/v1/keys/system/x', { value: 1, ttlSeconds: 60, expiresAt: new Date(Date.now() + 60_000).toISOString() }, 'body.ttlSeconds'],
      ['PUT', '/v1/keys/system/x', { value: 1, expiresAt: '2001-01-01T00:00:00Z' }, 'body.expiresAt'],
      ['PUT', '/v1/keys/system/x', { value: 1, ttlSeconds: 0 }, 'body.ttlSeconds'],
      ['PUT', '/v1/keys/system/x', { value: 1, expiresAt: 'tomorrow' }, 'body.expiresAt'],
      ['PUT', '/v1/keys/system/x', { secret: true }, 'body.value'],
      ['PUT', '/v1/keys/system/x', { value: 1, colour: 'red' }, 'body.colour'],
      ['PUT', '/v1/keys/system/x', { value: 'x'.repeat(300_000) }, 'body.value'],
      ['PUT', '/v1/keys/chat.threads/x', { value: 1 }, 'params.scope'],
      ['PUT', '/v1/keys/pack:Bad Name/x', { value: 1 }, 'params.scope'],
      ['PUT', '/v1/keys/system/bad%20name', { value: 1 }, 'params.name'],
      ['GET', '/v1/keys/chat.threads/x', undefined, 'params.scope'],
      ['GET', '/v1/keys?scope=chat.threads', undefined, 'querystring.scope'],
    ];
    for (const [method, url, body, field] of cases) {
      const res = await call(method as 'PUT', url, { body });
      expect(res.status, `${method} ${url}`).toBe(400);
      expect(res.body.error.details.map((d: { field: string }) => d.field), `${method} ${url}`).toContain(field);
    }
    expect((await call('GET', '/v1/keys/system/x')).status).toBe(404);
  });

  it('lets a grant scoped to a pack reach that pack’s keys only', async () => {
    expect((await call('PUT', '/v1/keys/pack:linux/disk.limit', { body: { value: 95 }, key: linuxReader })).status).toBe(201);
    expect((await call('GET', '/v1/keys/pack:linux/disk.limit', { key: linuxReader })).body.value).toBe(95);
    expect((await call('GET', '/v1/keys?scope=pack:linux', { key: linuxReader })).body.items).toHaveLength(1);
    expect((await call('PUT', '/v1/keys/pack:other/x', { body: { value: 1 }, key: linuxReader })).status).toBe(403);
    expect((await call('GET', '/v1/keys/system/oncall', { key: linuxReader })).status).toBe(403);
    expect((await call('GET', '/v1/keys?scope=system', { key: linuxReader })).status).toBe(403);
    expect((await call('PUT', '/v1/keys/system/x', { body: { value: 1 }, key: viewer })).status).toBe(403);
  });

  it('audits every write without its value, and announces it to rules engines', async () => {
    notices.length = 0;
    await call('PUT', '/v1/keys/pack:ops/token', { body: { value: 'audit-me-not', secret: true, ttlSeconds: 600 } });
    await call('DELETE', '/v1/keys/pack:ops/token');
    const audit = await call('GET', '/v1/audit?targetType=key&target=pack:ops/token');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['key.delete', 'key.set']);
    expect(audit.body.items[1].details).toMatchObject({ created: true, secret: true });
    expect(JSON.stringify(audit.body)).not.toContain('audit-me-not');
    await new Promise((r) => setTimeout(r, 50));
    expect(notices).toEqual([
      { topic: 'keys', op: 'create', ref: 'pack:ops/token' },
      { topic: 'keys', op: 'delete', ref: 'pack:ops/token' },
    ]);
  });
});

describe('rule state and re-runs of masked executions', () => {
  let t: TestApi;
  let operator: string;

  beforeAll(async () => {
    t = await startTestApi({ auth: true });
    operator = await makeKey(t.store, 'operator');
  });

  afterAll(async () => {
    await t.close();
  });

  it('PATCH enables and disables a rule, keeping its source', async () => {
    const now = new Date().toISOString();
    const rule: Rule = {
      ref: 'mon.page',
      pack: 'mon',
      name: 'page',
      enabled: true,
      trigger: { type: 'core.webhook', parameters: { url: 'page' } },
      action: { ref: 'core.noop' },
      source: 'pack',
      createdAt: now,
      updatedAt: now,
    };
    await t.store.rules.put(rule);
    const off = await t.app.inject({ method: 'PATCH', url: '/v1/rules/mon.page', payload: { enabled: false }, headers: bearer(operator) });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ ref: 'mon.page', enabled: false, source: 'pack', createdAt: now });
    expect((await t.store.rules.get('mon.page'))?.enabled).toBe(false);
    const on = await t.app.inject({ method: 'PATCH', url: '/v1/rules/mon.page', payload: { enabled: true }, headers: bearer(operator) });
    expect(on.json()).toMatchObject({ enabled: true, source: 'pack' });
    const bad = await t.app.inject({ method: 'PATCH', url: '/v1/rules/mon.page', payload: { enabled: 'yes' }, headers: bearer(operator) });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe('body.enabled');
    expect((await t.app.inject({ method: 'PATCH', url: '/v1/rules/mon.none', payload: { enabled: true }, headers: bearer(operator) })).statusCode).toBe(404);
    const audit = await t.app.inject({ url: '/v1/audit?target=mon.page', headers: bearer(t.adminKey) });
    expect(audit.json().items.map((e: { action: string }) => e.action)).toEqual(['rule.enable', 'rule.disable']);
  });

  it('re-run asks again for parameters that held datastore secrets', async () => {
    const now = new Date().toISOString();
    const execution: Execution = {
      id: newId(),
      action: 'core.echo',
      runner: 'echo',
      parameters: { message: `token ${SECRET_MASK}` },
      maskedParameters: ['message'],
      status: 'succeeded',
      traceId: 't',
      attempt: 1,
      history: [],
      createdAt: now,
      updatedAt: now,
    };
    await t.store.executions.insert(execution);
    const refused = await t.app.inject({ method: 'POST', url: `/v1/executions/${execution.id}/re-run`, payload: {}, headers: bearer(operator) });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details).toEqual([{ field: 'body.parameters.message', message: 'held a datastore secret that was not stored: give it again' }]);
    const ok = await t.app.inject({
      method: 'POST',
      url: `/v1/executions/${execution.id}/re-run`,
      payload: { parameters: { message: 'token again' } },
      headers: bearer(operator),
    });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ rerunOf: execution.id, parameters: { message: 'token again' } });
  });
});
