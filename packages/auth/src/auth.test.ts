import { describe, expect, it } from 'vitest';
import { newId, type Role } from '@reflex/model';
import {
  BUILTIN_ROLES,
  ReplayCache,
  authorize,
  checkHmac,
  checkToken,
  hashKey,
  hmacSettingsOf,
  keyIdOf,
  keyMatches,
  mayEver,
  newKeySecret,
  newSecretsKey,
  openSecret,
  permissionsCovered,
  scopeMatches,
  sealSecret,
  signWebhook,
} from './index.ts';

describe('keys', () => {
  it('makes keys that carry their id, and matches only the exact key', () => {
    const id = newId();
    const key = newKeySecret(id);
    expect(key).toMatch(/^rfx_[0-9A-Z]{26}_[A-Za-z0-9_-]{43}$/);
    expect(keyIdOf(key)).toBe(id);
    expect(keyMatches(key, hashKey(key))).toBe(true);
    expect(keyMatches(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, hashKey(key))).toBe(false);
    expect(keyMatches(key, 'nothex')).toBe(false);
    expect(newKeySecret(id)).not.toBe(key);
  });

  it.each(['', 'rfx_', 'Bearer x', `rfx_${'I'.repeat(26)}_${'a'.repeat(43)}`, `rfx_${'0'.repeat(26)}_${'a'.repeat(42)}`, `rfx_${'0'.repeat(26)}_${'a'.repeat(43)}\n`])(
    'finds no id in %j',
    (presented) => expect(keyIdOf(presented)).toBeNull(),
  );
});

describe('authorization', () => {
  const linuxOps: Role = {
    name: 'linux-ops',
    grants: [{ permissions: ['executions:run', 'executions:cancel'], scope: ['linux.*'] }, { permissions: ['*:read'], scope: ['*'] }],
    createdAt: '',
    updatedAt: '',
  };

  it('gives admin everything, operator runs and writes rules, viewer only reads', () => {
    const { admin, operator, viewer } = BUILTIN_ROLES;
    expect(authorize(admin, 'roles:write')).toBe(true);
    expect(authorize(operator, 'executions:run', 'core.local')).toBe(true);
    expect(authorize(operator, 'rules:write')).toBe(true);
    expect(authorize(operator, 'apikeys:write')).toBe(false);
    expect(authorize(operator, 'packs:register')).toBe(false);
    expect(authorize(operator, 'audit:read')).toBe(false);
    expect(authorize(viewer, 'executions:read')).toBe(true);
    expect(authorize(viewer, 'executions:run', 'core.echo')).toBe(false);
    expect(authorize(viewer, 'apikeys:read')).toBe(false);
    expect(authorize(undefined, 'events:read')).toBe(false);
  });

  it('limits a scoped grant to matching refs, and never answers the unscoped question with it', () => {
    expect(authorize(linuxOps, 'executions:run', 'linux.restart')).toBe(true);
    expect(authorize(linuxOps, 'executions:run', 'core.local')).toBe(false);
    expect(authorize(linuxOps, 'executions:run')).toBe(false);
    expect(mayEver(linuxOps, 'executions:run')).toBe(true);
    expect(mayEver(linuxOps, 'rules:write')).toBe(false);
    expect(authorize(linuxOps, 'audit:read')).toBe(true); // `*:read` with scope `*`
  });

  it.each([
    ['*', 'anything.at.all', true],
    ['linux.*', 'linux.restart', true],
    ['linux.*', 'linux', true],
    ['linux.*', 'linuxx.restart', false],
    ['linux.*', 'core.linux', false],
    ['linux.restart', 'linux.restart_all', false],
    ['team/*', 'team/alerts', true],
    ['a.b', 'aXb', false],
    ['*.deploy', 'ops.deploy', true],
  ])('scope %s vs %s → %s', (pattern, ref, expected) => expect(scopeMatches(pattern, ref)).toBe(expected));

  it('knows which permissions a pattern covers', () => {
    expect(permissionsCovered('rules:*')).toEqual(['rules:read', 'rules:write']);
    expect(permissionsCovered('*:cancel')).toEqual(['executions:cancel']);
    expect(permissionsCovered('nope:read')).toEqual([]);
  });
});

describe('sealed secrets', () => {
  it('opens with the same key and binding only', () => {
    const key = newSecretsKey();
    const sealed = sealSecret(key, 'hush', 'alerts');
    expect(sealed).not.toContain('hush');
    expect(openSecret(key, sealed, 'alerts')).toBe('hush');
    expect(() => openSecret(key, sealed, 'other')).toThrow(/cannot be opened/);
    expect(() => openSecret(newSecretsKey(), sealed, 'alerts')).toThrow(/cannot be opened/);
    expect(() => openSecret(key, 'v2.x', 'alerts')).toThrow(/unknown format/);
    expect(() => sealSecret(Buffer.alloc(5), 'x', 'y')).toThrow(/32 bytes/);
  });
});

describe('webhook signatures', () => {
  const now = Date.parse('2025-06-01T12:00:00Z');

  it("verifies GitHub's documented example", () => {
    const settings = hmacSettingsOf({ preset: 'github' });
    const body = Buffer.from('Hello, World!');
    const headers = { 'x-hub-signature-256': 'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' };
    expect(checkHmac(settings, "It's a Secret to Everybody", headers, body, { nowMs: now })).toEqual({ ok: true });
    expect(signWebhook(settings, "It's a Secret to Everybody", body)).toBe(headers['x-hub-signature-256']);
    expect(checkHmac(settings, 'another secret', headers, body, { nowMs: now })).toEqual({ ok: false, reason: 'bad' });
    expect(checkHmac(settings, "It's a Secret to Everybody", headers, Buffer.from('Hello, World?'), { nowMs: now })).toEqual({ ok: false, reason: 'bad' });
    expect(checkHmac(settings, "It's a Secret to Everybody", {}, body, { nowMs: now })).toEqual({ ok: false, reason: 'missing' });
    expect(checkHmac(settings, "It's a Secret to Everybody", { 'x-hub-signature-256': 'sha1=757107' }, body, { nowMs: now })).toEqual({ ok: false, reason: 'bad' });
    expect(checkHmac(settings, "It's a Secret to Everybody", { 'x-hub-signature-256': ['a', 'b'] }, body, { nowMs: now })).toEqual({ ok: false, reason: 'missing' });
  });

  it('checks a Slack-style timestamped signature: tolerance, then once only', () => {
    const settings = hmacSettingsOf({ preset: 'slack' });
    const secret = 'slack-signing-secret-0123456789';
    const body = Buffer.from('token=x&text=hello');
    const ts = String(now / 1000);
    const signed = { 'x-slack-signature': signWebhook(settings, secret, body, ts), 'x-slack-request-timestamp': ts };
    expect(signed['x-slack-signature']).toMatch(/^v0=[0-9a-f]{64}$/);
    const cache = new ReplayCache();
    const replay = { cache, scope: 'slack' };
    expect(checkHmac(settings, secret, signed, body, { nowMs: now, replay })).toEqual({ ok: true });
    expect(checkHmac(settings, secret, signed, body, { nowMs: now + 1000, replay })).toEqual({ ok: false, reason: 'replayed' });
    expect(checkHmac(settings, secret, signed, body, { nowMs: now + 301_000, replay })).toEqual({ ok: false, reason: 'expired' });
    // Moving the timestamp breaks the signature.
    const moved = { ...signed, 'x-slack-request-timestamp': String(now / 1000 + 10) };
    expect(checkHmac(settings, secret, moved, body, { nowMs: now, replay })).toEqual({ ok: false, reason: 'bad' });
    expect(checkHmac(settings, secret, { 'x-slack-signature': signed['x-slack-signature'] }, body, { nowMs: now })).toEqual({ ok: false, reason: 'missing' });
    expect(checkHmac(settings, secret, { ...signed, 'x-slack-request-timestamp': '12ab' }, body, { nowMs: now })).toEqual({ ok: false, reason: 'bad' });
  });

  it('supports a generic header, algorithm, prefix and base64', () => {
    const settings = hmacSettingsOf({ header: 'X-Sig', algorithm: 'sha512', prefix: 'hmac ', encoding: 'base64' });
    expect(settings).toMatchObject({ header: 'x-sig', signedPayload: '{body}', toleranceSeconds: 300 });
    const body = Buffer.from('{"a":1}');
    const signature = signWebhook(settings, 'generic-secret-0123456789', body);
    expect(signature).toMatch(/^hmac [A-Za-z0-9+/]+=*$/);
    expect(checkHmac(settings, 'generic-secret-0123456789', { 'x-sig': signature }, body, { nowMs: now })).toEqual({ ok: true });
  });

  it('refuses settings whose timestamp the signature would not cover', () => {
    expect(() => hmacSettingsOf({ timestampHeader: 'x-ts', signedPayload: '{body}' })).toThrow(/protects nothing/);
    expect(() => hmacSettingsOf({ signedPayload: '{timestamp}{body}' })).toThrow(/no timestampHeader/);
    expect(() => hmacSettingsOf({ signedPayload: '{body}{body}' })).toThrow(/exactly once/);
    expect(hmacSettingsOf({ timestampHeader: 'X-TS' })).toMatchObject({ timestampHeader: 'x-ts', signedPayload: '{timestamp}.{body}' });
  });

  it('checks a shared token by digest', () => {
    const hash = hashKey('a-shared-token-of-some-length');
    expect(checkToken('x-token', hash, { 'x-token': 'a-shared-token-of-some-length' })).toEqual({ ok: true });
    expect(checkToken('x-token', hash, { 'x-token': 'a-shared-token-of-some-lengtH' })).toEqual({ ok: false, reason: 'bad' });
    expect(checkToken('x-token', hash, {})).toEqual({ ok: false, reason: 'missing' });
  });
});

describe('replay cache', () => {
  it('forgets expired entries and stays bounded', () => {
    const cache = new ReplayCache(100);
    for (let i = 0; i < 1000; i++) expect(cache.seen(`k${i}`, 1000 + i, 0)).toBe(false);
    expect(cache.size).toBeLessThanOrEqual(100);
    expect(cache.seen('k999', 5000, 0)).toBe(true);
    expect(cache.seen('k999', 5000, 6000)).toBe(false);
  });
});
