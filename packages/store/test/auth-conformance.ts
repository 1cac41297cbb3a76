/**
 * The Store contract for who may do what (issue 7): API keys and tokens, custom roles, the audit
 * trail and webhook authentication. Runs inside the main suite's describe, on its fresh store.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError, type ApiKey, type AuditEntry, type Role, type WebhookAuth } from '@reflex/model';
import type { Store } from '../src/index.ts';
import { HOUR, MINUTE, T0, at, collectPages, rejection } from './fixtures.ts';

function makeKey(id: string, overrides: Partial<ApiKey> = {}): ApiKey {
  return { id, name: `key-${id}`, role: 'operator', kind: 'key', hash: `hash-${id}`, createdAt: at(0), ...overrides };
}

function makeAudit(id: string, offsetMs: number, overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    id,
    at: at(offsetMs),
    actor: { kind: 'apikey', id: 'k1', name: 'ann', role: 'admin' },
    action: 'rule.create',
    target: { type: 'rule', id: 'demo.r' },
    ip: '127.0.0.1',
    status: 201,
    ...overrides,
  };
}

export function runAuthConformance(storeOf: () => Store): void {
  describe('API keys', () => {
    it('inserts, gets, lists oldest first, refuses a taken id', async () => {
      const store = storeOf();
      await store.apiKeys.insert(makeKey('k2', { createdAt: at(MINUTE) }));
      await store.apiKeys.insert(makeKey('k1', { expiresAt: at(HOUR), createdBy: 'k0' }));
      await store.apiKeys.insert(makeKey('t1', { kind: 'token', role: 'viewer', parentId: 'k1', expiresAt: at(2 * HOUR), createdAt: at(2 * MINUTE) }));
      expect(await store.apiKeys.get('k1')).toStrictEqual(makeKey('k1', { expiresAt: at(HOUR), createdBy: 'k0' }));
      expect(await store.apiKeys.get('nope')).toBeNull();
      expect((await store.apiKeys.list()).map((k) => k.id)).toEqual(['k1', 'k2', 't1']);
      expect((await store.apiKeys.list({ kind: 'key' })).map((k) => k.id)).toEqual(['k1', 'k2']);
      expect((await store.apiKeys.list({ role: 'viewer' })).map((k) => k.id)).toEqual(['t1']);
      const taken = await rejection(store.apiKeys.insert(makeKey('k1')));
      expect(taken).toBeInstanceOf(ConflictError);
      expect((taken as ConflictError).code).toBe('APIKEY_EXISTS');
    });

    it('revokes once (the first time stays), and lists revoked keys only when asked', async () => {
      const store = storeOf();
      await store.apiKeys.insert(makeKey('k1'));
      await store.apiKeys.insert(makeKey('k2', { createdAt: at(MINUTE) }));
      const revoked = await store.apiKeys.revoke('k1', at(HOUR));
      expect(revoked).toStrictEqual(makeKey('k1', { revokedAt: at(HOUR) }));
      expect((await store.apiKeys.revoke('k1', at(2 * HOUR)))?.revokedAt).toBe(at(HOUR));
      expect(await store.apiKeys.revoke('nope', at(HOUR))).toBeNull();
      expect((await store.apiKeys.list()).map((k) => k.id)).toEqual(['k2']);
      expect((await store.apiKeys.list({ includeRevoked: true })).map((k) => k.id)).toEqual(['k1', 'k2']);
    });

    it('refuses a key with a bad time', async () => {
      const store = storeOf();
      expect(await rejection(store.apiKeys.insert(makeKey('k1', { createdAt: 'yesterday' })))).toBeInstanceOf(ValidationError);
      expect(await store.apiKeys.get('k1')).toBeNull();
    });

    it('purgeExpired removes expired tokens, never keys, and counts neither', async () => {
      const store = storeOf();
      await store.apiKeys.insert(makeKey('k1', { expiresAt: at(HOUR) }));
      await store.apiKeys.insert(makeKey('t1', { kind: 'token', parentId: 'k1', expiresAt: at(HOUR) }));
      await store.apiKeys.insert(makeKey('t2', { kind: 'token', parentId: 'k1', expiresAt: at(10 * HOUR) }));
      const counts = await store.purgeExpired(new Date(T0 + 2 * HOUR));
      expect(counts).toEqual({ events: 0, executions: 0, enforcements: 0, outputs: 0 });
      expect((await store.apiKeys.list({ includeRevoked: true })).map((k) => k.id)).toEqual(['k1', 't2']);
    });
  });

  describe('roles', () => {
    const role = (name: string, overrides: Partial<Role> = {}): Role => ({
      name,
      grants: [{ permissions: ['executions:run'], scope: ['linux.*'] }, { permissions: ['*:read'] }],
      createdAt: at(0),
      updatedAt: at(0),
      ...overrides,
    });

    it('puts, replaces, gets, lists by name and deletes', async () => {
      const store = storeOf();
      await store.roles.put(role('linux-ops'));
      await store.roles.put(role('auditor', { description: 'reads', grants: [{ permissions: ['audit:read'] }] }));
      await store.roles.put(role('linux-ops', { updatedAt: at(MINUTE), grants: [] }));
      expect(await store.roles.get('linux-ops')).toStrictEqual(role('linux-ops', { updatedAt: at(MINUTE), grants: [] }));
      expect((await store.roles.list()).map((r) => r.name)).toEqual(['auditor', 'linux-ops']);
      expect(await store.roles.delete('auditor')).toBe(true);
      expect(await store.roles.delete('auditor')).toBe(false);
      expect(await store.roles.get('auditor')).toBeNull();
    });
  });

  describe('audit', () => {
    it('appends idempotently and pages newest first', async () => {
      const store = storeOf();
      for (let i = 0; i < 7; i++) await store.audit.append(makeAudit(`a${i}`, i * MINUTE));
      await store.audit.append(makeAudit('a3', 3 * MINUTE, { action: 'changed' }));
      const { items: all, sizes } = await collectPages((page) => store.audit.list({}, page), 3);
      expect(sizes).toEqual([3, 3, 1]);
      expect(all.map((e) => e.id)).toEqual(['a6', 'a5', 'a4', 'a3', 'a2', 'a1', 'a0']);
      expect(all.find((e) => e.id === 'a3')).toStrictEqual(makeAudit('a3', 3 * MINUTE));
    });

    it('filters by actor (id or name), action, target and time', async () => {
      const store = storeOf();
      await store.audit.append(makeAudit('a1', 0));
      await store.audit.append(makeAudit('a2', MINUTE, { actor: { kind: 'apikey', id: 'k2', name: 'bob' }, action: 'execution.run', target: { type: 'action', id: 'core.echo' } }));
      await store.audit.append(makeAudit('a3', 2 * MINUTE, { actor: { kind: 'anonymous', name: 'anonymous' }, action: 'rule.delete' }));
      const ids = async (filter: Parameters<Store['audit']['list']>[0]): Promise<string[]> =>
        (await store.audit.list(filter)).items.map((e) => e.id);
      expect(await ids({ actor: 'k2' })).toEqual(['a2']);
      expect(await ids({ actor: 'bob' })).toEqual(['a2']);
      expect(await ids({ actor: 'anonymous' })).toEqual(['a3']);
      expect(await ids({ action: 'rule.create' })).toEqual(['a1']);
      expect(await ids({ targetType: 'rule' })).toEqual(['a3', 'a1']);
      expect(await ids({ targetType: 'action', targetId: 'core.echo' })).toEqual(['a2']);
      expect(await ids({ since: at(MINUTE) })).toEqual(['a3', 'a2']);
      expect(await ids({ until: at(MINUTE) })).toEqual(['a1']);
      expect(await rejection(store.audit.list({ since: 'soon' }))).toBeInstanceOf(ValidationError);
      expect(await rejection(store.audit.list({}, { cursor: 'not a cursor' }))).toBeInstanceOf(ValidationError);
    });

    it('keeps entries past every retention', async () => {
      const store = storeOf();
      await store.audit.append(makeAudit('a1', 0));
      await store.purgeExpired(new Date(T0 + 1000 * 24 * HOUR));
      expect((await store.audit.list({})).items).toHaveLength(1);
    });
  });

  describe('webhook auth', () => {
    const auth = (url: string, overrides: Partial<WebhookAuth> = {}): WebhookAuth => ({
      url,
      type: 'hmac',
      header: 'x-hub-signature-256',
      sealedSecret: 'v1.sealed',
      algorithm: 'sha256',
      prefix: 'sha256=',
      encoding: 'hex',
      createdAt: at(0),
      updatedAt: at(0),
      ...overrides,
    });

    it('puts, replaces, gets, lists by url (slashes included) and deletes', async () => {
      const store = storeOf();
      await store.webhookAuth.put(auth('team/alerts'));
      await store.webhookAuth.put(auth('alerts', { type: 'token', tokenHash: 'abc', header: 'x-token', sealedSecret: undefined }));
      await store.webhookAuth.put(auth('team/alerts', { updatedAt: at(MINUTE) }));
      expect(await store.webhookAuth.get('team/alerts')).toStrictEqual(auth('team/alerts', { updatedAt: at(MINUTE) }));
      expect((await store.webhookAuth.list()).map((w) => w.url)).toEqual(['alerts', 'team/alerts']);
      expect(await store.webhookAuth.delete('alerts')).toBe(true);
      expect(await store.webhookAuth.delete('alerts')).toBe(false);
      expect(await store.webhookAuth.get('alerts')).toBeNull();
    });
  });
}
