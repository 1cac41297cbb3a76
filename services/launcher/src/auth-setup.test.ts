/**
 * The first start on a fresh data dir makes an admin key, writes it where only its owner can read
 * it, and says where (never what); later starts reuse it. REFLEX_AUTH=off warns on every start.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashKey } from '@reflex/auth';
import { loadConfig } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { ADMIN_KEY_FILE, loadSecretsKey, prepareAuth, SECRETS_KEY_FILE } from './auth-setup.ts';
import { launch } from './launch.ts';

const PACKS = fileURLToPath(new URL('../../../packs', import.meta.url));

describe('auth setup at start', () => {
  let dataDir: string;
  let store: Store;
  const lines: string[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });

  beforeEach(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'reflex-auth-setup-'));
    store = await createSqliteStore({ path: ':memory:' });
    lines.length = 0;
  });
  afterEach(async () => {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates the first admin key once, in a 0600 file, and logs the path but never the key', async () => {
    const config = loadConfig({}, { dataDir });
    const auth = await prepareAuth(config, store, logger);
    expect(auth.enabled).toBe(true);
    const file = join(dataDir, ADMIN_KEY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const key = readFileSync(file, 'utf8').trim();
    expect(key).toMatch(/^rfx_/);
    const keys = await store.apiKeys.list();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ role: 'admin', kind: 'key', hash: hashKey(key) });
    expect(lines.join('')).toContain(file);
    expect(lines.join('')).not.toContain(key);

    lines.length = 0;
    await prepareAuth(config, store, logger);
    expect(await store.apiKeys.list()).toHaveLength(1);
    expect(readFileSync(file, 'utf8').trim()).toBe(key);
    expect(lines.join('')).toContain('the first admin API key is in this file');
  });

  it('makes no admin key when keys exist or auth is off', async () => {
    const off = await prepareAuth(loadConfig({ REFLEX_AUTH: 'off' }, { dataDir }), store, logger);
    expect(off.enabled).toBe(false);
    expect(await store.apiKeys.list()).toEqual([]);
  });

  it('keeps one secrets key per data dir (0600), or takes REFLEX_SECRETS_KEY', () => {
    const config = loadConfig({}, { dataDir });
    const first = loadSecretsKey(config, logger);
    expect(first).toHaveLength(32);
    expect(statSync(join(dataDir, SECRETS_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(loadSecretsKey(config, logger).equals(first)).toBe(true);
    const given = Buffer.alloc(32, 7);
    expect(loadSecretsKey(loadConfig({ REFLEX_SECRETS_KEY: given.toString('base64') }, { dataDir }), logger).equals(given)).toBe(true);
    expect(loadSecretsKey(loadConfig({ REFLEX_SECRETS_KEY: given.toString('base64url') }, { dataDir }), logger).equals(given)).toBe(true);
    expect(() => loadConfig({ REFLEX_SECRETS_KEY: 'too-short' }, { dataDir })).toThrow(/REFLEX_SECRETS_KEY/);
    expect(() => loadConfig({ REFLEX_AUTH: 'maybe' }, { dataDir })).toThrow(/REFLEX_AUTH/);
  });

  it('warns on every start with REFLEX_AUTH=off, and audits the packs each start registers', async () => {
    const config = loadConfig({ REFLEX_AUTH: 'off' }, { port: 0, dataDir, packsPaths: [PACKS] });
    for (let start = 0; start < 2; start++) {
      const launched = await launch(config, ['api'], logger);
      const registrations = (await launched.store.audit.list({ action: 'pack.register' })).items;
      expect(registrations[0]).toMatchObject({ actor: { kind: 'system', name: 'reflex start' }, details: { registered: expect.arrayContaining(['core']) } });
      await launched.stop();
    }
    expect(lines.filter((l) => l.includes('authentication is OFF') && l.includes('"level":40'))).toHaveLength(2);
  });
});
