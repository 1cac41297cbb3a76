/**
 * Authentication (keys, tokens, expiry, revocation), custom roles scoped to packs, auth off, and the
 * audit trail, through the API.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashKey, newKeySecret } from '@reflex/auth';
import { newId, type Action } from '@reflex/model';
import { bearer, makeKey, startTestApi, type TestApi } from '../testing.ts';

const restart: Action = {
  ref: 'linux.restart',
  pack: 'linux',
  name: 'restart',
  enabled: true,
  runner: 'noop',
  parametersSchema: { type: 'object', properties: { service: { type: 'string' } } },
};

describe('authentication', () => {
  let t: TestApi;
  beforeEach(async () => {
    t = await startTestApi({ auth: true });
  });
  afterEach(async () => {
    await t.close();
  });

  it('refuses requests without a valid key with 401 and WWW-Authenticate, without echoing the key', async () => {
    const bogus = newKeySecret(newId());
    for (const headers of [
      {},
      { authorization: 'Basic dXNlcjpwYXNz' },
      { authorization: 'Bearer not-a-key' },
      { authorization: `Bearer ${bogus}` },
      { 'x-reflex-api-key': bogus },
      { authorization: `Bearer ${t.adminKey}x` },
    ]) {
      const res = await t.app.inject({ url: '/v1/rules', headers });
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="reflex"');
      expect(res.json().error.code).toBe('UNAUTHENTICATED');
      expect(res.body).not.toContain(bogus);
    }
  });

  it('accepts a key as Authorization: Bearer or X-Reflex-Api-Key', async () => {
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(t.adminKey) })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/rules', headers: { 'x-reflex-api-key': t.adminKey } })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/rules', headers: { authorization: `bearer   ${t.adminKey}` } })).statusCode).toBe(200);
    // A proxy's Basic credentials do not hide the API key header.
    expect((await t.app.inject({ url: '/v1/rules', headers: { authorization: 'Basic dXNlcjpwYXNz', 'x-reflex-api-key': t.adminKey } })).statusCode).toBe(200);
  });

  it('creates a key that is shown once, lists keys without secrets, and revokes', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/v1/apikeys', headers: bearer(t.adminKey), payload: { name: 'ci', role: 'viewer' } });
    expect(created.statusCode).toBe(201);
    const { key, id } = created.json() as { key: string; id: string };
    expect(key).toMatch(/^rfx_/);
    expect(created.json()).not.toHaveProperty('hash');
    const stored = await t.store.apiKeys.get(id);
    expect(stored?.hash).toBe(hashKey(key));
    expect(JSON.stringify(stored)).not.toContain(key);

    const list = await t.app.inject({ url: '/v1/apikeys', headers: bearer(t.adminKey) });
    expect(list.json().items.map((k: { name: string }) => k.name)).toEqual(['test-admin', 'ci']);
    expect(list.body).not.toContain(key);
    expect(list.body).not.toContain('hash');
    expect((await t.app.inject({ url: `/v1/apikeys/${id}`, headers: bearer(t.adminKey) })).body).not.toContain(key);

    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(key) })).statusCode).toBe(200);
    const revoked = await t.app.inject({ method: 'DELETE', url: `/v1/apikeys/${id}`, headers: bearer(t.adminKey) });
    expect(revoked.statusCode).toBe(200);
    expect(revoked.json().revokedAt).toBeDefined();
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(key) })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/v1/apikeys', headers: bearer(t.adminKey) })).json().items).toHaveLength(1);
    expect((await t.app.inject({ url: '/v1/apikeys?includeRevoked=true', headers: bearer(t.adminKey) })).json().items).toHaveLength(2);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/apikeys/nope', headers: bearer(t.adminKey) })).statusCode).toBe(404);
  });

  it('refuses a key for an unknown role or expiring in the past, naming the field', async () => {
    const unknown = await t.app.inject({ method: 'POST', url: '/v1/apikeys', headers: bearer(t.adminKey), payload: { name: 'x', role: 'wizard' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details[0].field).toBe('body.role');
    const past = await t.app.inject({ method: 'POST', url: '/v1/apikeys', headers: bearer(t.adminKey), payload: { name: 'x', role: 'viewer', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(past.statusCode).toBe(400);
    expect(past.json().error.details[0].field).toBe('body.expiresAt');
    expect(await t.store.apiKeys.list()).toHaveLength(1);
  });

  it('stops accepting a key once it has expired', async () => {
    const soon = await makeKey(t.store, 'viewer', { expiresAt: new Date(Date.now() - 1000).toISOString() });
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(soon) })).statusCode).toBe(401);
  });

  it('mints short-lived tokens with the key’s role, which die with their key', async () => {
    const viewer = await makeKey(t.store, 'viewer', { name: 'ann' });
    const minted = await t.app.inject({ method: 'POST', url: '/v1/auth/tokens', headers: bearer(viewer), payload: { ttlSeconds: 120 } });
    expect(minted.statusCode).toBe(201);
    const { token, expiresAt, role } = minted.json() as { token: string; expiresAt: string; role: string };
    expect(role).toBe('viewer');
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThanOrEqual(120_000);
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(token) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: '/v1/rules', headers: bearer(token), payload: {} })).statusCode).toBe(403);
    const me = await t.app.inject({ url: '/v1/auth/whoami', headers: bearer(token) });
    expect(me.json()).toMatchObject({ kind: 'token', role: 'viewer', name: 'token:ann' });
    // Tokens are not listed as keys; the key they came from is.
    expect((await t.app.inject({ url: '/v1/apikeys', headers: bearer(t.adminKey) })).body).not.toContain(token);

    const parentId = (await t.store.apiKeys.list({ role: 'viewer', kind: 'key' }))[0]?.id as string;
    await t.app.inject({ method: 'DELETE', url: `/v1/apikeys/${parentId}`, headers: bearer(t.adminKey) });
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(token) })).statusCode).toBe(401);
  });

  it('refuses an expired token, and never mints one past its key’s expiry', async () => {
    const expiring = await makeKey(t.store, 'operator', { expiresAt: new Date(Date.now() + 90_000).toISOString() });
    const minted = await t.app.inject({ method: 'POST', url: '/v1/auth/tokens', headers: bearer(expiring), payload: { ttlSeconds: 3600 } });
    expect(Date.parse(minted.json().expiresAt)).toBeLessThanOrEqual(Date.now() + 90_000);
    const id = newId();
    const old = newKeySecret(id);
    const parent = (await t.store.apiKeys.list())[0]?.id as string;
    await t.store.apiKeys.insert({ id, name: 't', role: 'admin', kind: 'token', hash: hashKey(old), createdAt: new Date().toISOString(), expiresAt: new Date(Date.now() - 1).toISOString(), parentId: parent });
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(old) })).statusCode).toBe(401);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/auth/tokens', headers: bearer(t.adminKey), payload: { ttlSeconds: 10 } });
    expect(bad.statusCode).toBe(400);
  });
});

describe('custom roles scoped to packs', () => {
  let t: TestApi;
  let key: string;
  beforeEach(async () => {
    t = await startTestApi({ auth: true });
    await t.store.actions.upsert(restart);
    const created = await t.app.inject({
      method: 'POST',
      url: '/v1/roles',
      headers: bearer(t.adminKey),
      payload: {
        name: 'linux-ops',
        description: 'may run linux.* actions only',
        grants: [
          { permissions: ['executions:run', 'executions:read', 'executions:cancel', 'rules:write'], scope: ['linux.*'] },
          { permissions: ['actions:read', 'rules:read'] },
        ],
      },
    });
    expect(created.statusCode).toBe(201);
    key = await makeKey(t.store, 'linux-ops');
  });
  afterEach(async () => {
    await t.close();
  });

  it('may run, read, cancel and re-run linux.* actions, and nothing else', async () => {
    const run = await t.app.inject({ method: 'POST', url: '/v1/executions', headers: bearer(key), payload: { action: 'linux.restart', parameters: { service: 'nginx' } } });
    expect(run.statusCode).toBe(201);
    const id = run.json().id as string;
    const other = await t.app.inject({ method: 'POST', url: '/v1/executions', headers: bearer(key), payload: { action: 'core.local', parameters: { cmd: 'id' } } });
    expect(other.statusCode).toBe(403);
    expect(other.json().error.message).toBe("role 'linux-ops' may not executions:run on 'core.local'");
    expect((await t.app.inject({ url: `/v1/executions/${id}`, headers: bearer(key) })).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'POST', url: `/v1/executions/${id}/re-run`, headers: bearer(key) })).statusCode).toBe(201);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/executions/${id}`, headers: bearer(key) })).statusCode).toBe(202);

    const foreign = await t.app.inject({ method: 'POST', url: '/v1/executions', headers: bearer(t.adminKey), payload: { action: 'core.noop' } });
    const foreignId = foreign.json().id as string;
    expect((await t.app.inject({ url: `/v1/executions/${foreignId}`, headers: bearer(key) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/executions/${foreignId}`, headers: bearer(key) })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'POST', url: `/v1/executions/${foreignId}/re-run`, headers: bearer(key) })).statusCode).toBe(403);
    // Listing every execution needs an unscoped grant.
    expect((await t.app.inject({ url: '/v1/executions', headers: bearer(key) })).statusCode).toBe(403);
    // Unknown ids: the scope cannot be known, so the unscoped permission is needed (no probing).
    expect((await t.app.inject({ url: '/v1/executions/nope', headers: bearer(key) })).statusCode).toBe(403);
    expect((await t.app.inject({ url: '/v1/actions', headers: bearer(key) })).statusCode).toBe(200);
  });

  it('may write linux rules only when they run linux actions', async () => {
    const rule = (pack: string, action: string) => ({ pack, name: 'r', trigger: { type: 'core.webhook', parameters: { url: 'x' } }, action: { ref: action } });
    expect((await t.app.inject({ method: 'POST', url: '/v1/rules', headers: bearer(key), payload: rule('linux', 'linux.restart') })).statusCode).toBe(201);
    const escalate = await t.app.inject({ method: 'POST', url: '/v1/rules', headers: bearer(key), payload: rule('linux', 'core.local') });
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json().error.message).toContain("'core.local'");
    expect((await t.app.inject({ method: 'POST', url: '/v1/rules', headers: bearer(key), payload: rule('demo', 'linux.restart') })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/rules/linux.r', headers: bearer(key) })).statusCode).toBe(204);
  });

  it('validates roles and protects built-in and used ones', async () => {
    const headers = bearer(t.adminKey);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/roles', headers, payload: { name: 'odd', grants: [{ permissions: ['rules:fly'] }] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details[0].field).toBe('body.grants.0.permissions.0');
    expect((await t.app.inject({ method: 'POST', url: '/v1/roles', headers, payload: { name: 'admin', grants: [] } })).statusCode).toBe(400);
    expect((await t.app.inject({ method: 'POST', url: '/v1/roles', headers, payload: { name: 'linux-ops', grants: [] } })).statusCode).toBe(409);
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/roles/admin', headers })).statusCode).toBe(409);
    const used = await t.app.inject({ method: 'DELETE', url: '/v1/roles/linux-ops', headers });
    expect(used.statusCode).toBe(409);
    expect(used.json().error.code).toBe('ROLE_IN_USE');
    const names = (await t.app.inject({ url: '/v1/roles', headers })).json().items.map((r: { name: string }) => r.name);
    expect(names).toEqual(['admin', 'operator', 'viewer', 'linux-ops']);
  });

  it('takes a changed role into account at once', async () => {
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(key) })).statusCode).toBe(200);
    const replaced = await t.app.inject({ method: 'PUT', url: '/v1/roles/linux-ops', headers: bearer(t.adminKey), payload: { name: 'linux-ops', grants: [] } });
    expect(replaced.statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(key) })).statusCode).toBe(403);
  });
});

describe('auth off (REFLEX_AUTH=off)', () => {
  it('lets every request through as an anonymous admin, says so at start, and audits it as anonymous', async () => {
    const lines: string[] = [];
    const t = await startTestApi({ auth: false, logger: pino({ level: 'info' }, { write: (line: string) => lines.push(line) }) });
    try {
      expect(lines.some((l) => l.includes('authentication is OFF'))).toBe(true);
      const res = await t.app.inject({ method: 'POST', url: '/v1/executions', payload: { action: 'core.noop' } });
      expect(res.statusCode).toBe(201);
      const audit = (await t.store.audit.list({})).items;
      expect(audit[0]).toMatchObject({ action: 'execution.run', actor: { kind: 'anonymous', name: 'anonymous' } });
      expect((await t.app.inject({ method: 'POST', url: '/v1/auth/tokens' })).statusCode).toBe(409);
    } finally {
      await t.close();
    }
  });
});

describe('audit', () => {
  let t: TestApi;
  beforeEach(async () => {
    t = await startTestApi({ auth: true });
  });
  afterEach(async () => {
    await t.close();
  });

  it('records every change and manual run with who, what, when and from where; newest first, filtered, paged', async () => {
    const operator = await makeKey(t.store, 'operator', { name: 'olga' });
    const admin = bearer(t.adminKey);
    const op = bearer(operator);
    const rule = { pack: 'demo', name: 'a', trigger: { type: 'core.webhook', parameters: { url: 'a' } }, action: { ref: 'core.noop' } };
    await t.app.inject({ method: 'POST', url: '/v1/rules', headers: op, payload: rule });
    await t.app.inject({ method: 'PUT', url: '/v1/rules/demo.a', headers: op, payload: { ...rule, enabled: false } });
    const run = await t.app.inject({ method: 'POST', url: '/v1/executions', headers: op, payload: { action: 'core.noop' } });
    await t.app.inject({ method: 'POST', url: `/v1/executions/${run.json().id}/re-run`, headers: op });
    await t.app.inject({ method: 'DELETE', url: `/v1/executions/${run.json().id}`, headers: op });
    await t.app.inject({ method: 'DELETE', url: '/v1/rules/demo.a', headers: op });
    const created = await t.app.inject({ method: 'POST', url: '/v1/apikeys', headers: admin, payload: { name: 'bot', role: 'viewer' } });
    await t.app.inject({ method: 'DELETE', url: `/v1/apikeys/${created.json().id}`, headers: admin });
    await t.app.inject({ method: 'POST', url: '/v1/roles', headers: admin, payload: { name: 'r1', grants: [] } });
    await t.app.inject({ method: 'PUT', url: '/v1/webhook-auth/a', headers: admin, payload: { type: 'token', token: 'a-shared-token-0123456789' } });
    await t.app.inject({ method: 'POST', url: '/v1/packs/register', headers: admin, payload: { packs: ['core'] } });
    // Failed or refused attempts change nothing and are not entries.
    await t.app.inject({ method: 'POST', url: '/v1/rules', headers: op, payload: { bad: true } });
    await t.app.inject({ method: 'POST', url: '/v1/roles', headers: op, payload: { name: 'r2', grants: [] } });

    const res = await t.app.inject({ url: '/v1/audit?limit=100', headers: admin });
    expect(res.statusCode).toBe(200);
    const items = res.json().items as Array<{ action: string; actor: { name: string; id?: string; role?: string }; target?: { type: string; id: string }; ip: string; at: string }>;
    expect(items.map((e) => e.action)).toEqual([
      'pack.register',
      'webhook-auth.put',
      'role.create',
      'apikey.revoke',
      'apikey.create',
      'rule.delete',
      'execution.cancel',
      'execution.rerun',
      'execution.run',
      'rule.replace',
      'rule.create',
    ]);
    expect(items.at(-1)).toMatchObject({ actor: { kind: 'apikey', name: 'olga', role: 'operator' }, target: { type: 'rule', id: 'demo.a' }, ip: '127.0.0.1', status: 201 });
    expect(items.find((e) => e.action === 'execution.run')?.target).toEqual({ type: 'execution', id: run.json().id });
    expect(res.body).not.toContain(created.json().key);
    expect(res.body).not.toContain('a-shared-token-0123456789');

    const byOlga = await t.app.inject({ url: '/v1/audit?actor=olga', headers: admin });
    expect(byOlga.json().items).toHaveLength(6);
    const runs = await t.app.inject({ url: '/v1/audit?action=execution.run', headers: admin });
    expect(runs.json().items).toHaveLength(1);
    const page = await t.app.inject({ url: '/v1/audit?limit=4', headers: admin });
    expect(page.json().items).toHaveLength(4);
    const next = await t.app.inject({ url: `/v1/audit?limit=4&cursor=${page.json().nextCursor}`, headers: admin });
    expect(next.json().items[0].action).toBe('apikey.create');
    expect((await t.app.inject({ url: '/v1/audit', headers: op })).statusCode).toBe(403);
  });
});
