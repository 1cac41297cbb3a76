import { rm } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, ValidationError, type JsonValue } from '@reflex/model';
import { createSqliteStore, type Store } from '@reflex/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadPack,
  loadPackConfigFile,
  PACK_CONFIG_SCOPE,
  packConfigs,
  registerPacks,
  unregisterPack,
  type ConfigSealing,
  type PackRegistration,
} from './index.ts';
import { tempDir, type TempDir } from './test-helpers.ts';

/** Stands in for @reflex/auth's sealing: reversible, bound to scope and name, and never the plaintext. */
const sealing: ConfigSealing = {
  seal: (scope, name, value) => `sealed:${Buffer.from(JSON.stringify([scope, name, value])).toString('base64')}`,
  open: (scope, name, sealed) => {
    const [s, n, value] = JSON.parse(Buffer.from(String(sealed).slice('sealed:'.length), 'base64').toString()) as [string, string, JsonValue];
    if (s !== scope || n !== name) throw new Error(`sealed for ${s}/${n}, not ${scope}/${name}`);
    return value;
  },
};

const schemaYaml = `
  api_key:
    type: string
    required: true
    secret: true
  url:
    type: string
    default: https://example.com
  timeout:
    type: integer
    default: 30
`;

const monitoring = {
  'packs/monitoring/pack.yaml': 'name: monitoring\nversion: 1.0.0\n',
  'packs/monitoring/config.schema.yaml': schemaYaml,
};

let tmp: TempDir;
let store: Store;
let configDir: string;
beforeEach(async () => {
  tmp = await tempDir();
  configDir = path.join(tmp.path, 'config');
  store = await createSqliteStore({ path: ':memory:', sweepIntervalMs: 0 });
});
afterEach(async () => {
  await store.close();
  await tmp[Symbol.asyncDispose]();
});

const register = async (...names: string[]): Promise<PackRegistration[]> =>
  registerPacks(store, await Promise.all(names.map((n) => loadPack(path.join(tmp.path, 'packs', n)))), { config: { dir: configDir, sealing } });

function lines(r: PackRegistration | undefined): string[] {
  return r === undefined || r.ok ? [] : r.errors.map((e) => `${path.relative(tmp.path, e.file)}:${e.line} ${e.field}: ${e.message}`);
}

describe('loadPackConfigFile', () => {
  it('reads <dir>/<pack>.yaml, fills in defaults, and has nothing to say when there is no file', async () => {
    await tmp.write(monitoring);
    const loaded = await loadPack(path.join(tmp.path, 'packs/monitoring'));
    const schema = loaded.configSchema;
    expect(schema).toMatchObject({ type: 'object', required: ['api_key'], additionalProperties: false });
    if (schema === undefined) return;
    expect(await loadPackConfigFile(configDir, 'monitoring', schema)).toEqual({ file: null, values: null, errors: [] });
    await tmp.write({ 'config/monitoring.yaml': 'api_key: s3cret\ntimeout: 5\n' });
    expect(await loadPackConfigFile(configDir, 'monitoring', schema)).toEqual({
      file: path.join(configDir, 'monitoring.yaml'),
      values: { api_key: 's3cret', timeout: 5, url: 'https://example.com' },
      errors: [],
    });
  });

  it('names each problem at its file:line and field', async () => {
    await tmp.write({ ...monitoring, 'config/monitoring.yaml': '# site values\ntimeout: soon\nurl: https://x\nbogus: 1\n' });
    const schema = (await loadPack(path.join(tmp.path, 'packs/monitoring'))).configSchema ?? {};
    const found = await loadPackConfigFile(configDir, 'monitoring', schema);
    expect(found.values).toBeNull();
    expect(found.errors.map((e) => `${path.relative(tmp.path, e.file)}:${e.line} ${e.field}: ${e.message}`)).toEqual([
      'config/monitoring.yaml:2 api_key: is required',
      'config/monitoring.yaml:4 bogus: is not allowed',
      'config/monitoring.yaml:2 timeout: must be integer',
    ]);
  });
});

describe('configuration at registration', () => {
  it('stores the file values with defaults, the secret sealed; get opens it, getMasked masks it', async () => {
    await tmp.write({ ...monitoring, 'config/monitoring.yaml': 'api_key: s3cret-value\n' });
    const [result] = await register('monitoring');
    expect(result).toMatchObject({ ok: true, result: { configFile: path.join(configDir, 'monitoring.yaml') } });

    const raw = await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring');
    expect(JSON.stringify(raw)).not.toContain('s3cret-value');
    expect(raw?.value).toMatchObject({ url: 'https://example.com', timeout: 30, api_key: expect.stringMatching(/^sealed:/) });

    const configs = packConfigs(store, sealing);
    expect(await configs.get('monitoring')).toEqual({ api_key: 's3cret-value', url: 'https://example.com', timeout: 30 });
    expect(await configs.getMasked('monitoring')).toEqual({ api_key: '********', url: 'https://example.com', timeout: 30 });
    expect((await store.packs.get('monitoring'))?.configSchema).toMatchObject({ required: ['api_key'] });
  });

  it('refuses a pack whose file fails the schema, with file:line errors, and writes nothing of it', async () => {
    await tmp.write({ ...monitoring, 'config/monitoring.yaml': 'api_key: 42\n' });
    const [result] = await register('monitoring');
    expect(lines(result)).toEqual(['config/monitoring.yaml:1 api_key: must be string']);
    expect(await store.packs.get('monitoring')).toBeNull();
    expect(await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring')).toBeNull();
  });

  it('lets the file win over values set since, on every registration; no file leaves them alone', async () => {
    await tmp.write({ ...monitoring, 'config/monitoring.yaml': 'api_key: from-file\ntimeout: 5\n' });
    await register('monitoring');
    const configs = packConfigs(store, sealing);
    await configs.put('monitoring', { api_key: 'from-api', timeout: 7 });
    expect(await configs.get('monitoring')).toMatchObject({ api_key: 'from-api', timeout: 7 });
    await register('monitoring');
    expect(await configs.get('monitoring')).toMatchObject({ api_key: 'from-file', timeout: 5 });

    await configs.put('monitoring', { api_key: 'from-api' });
    await rm(path.join(configDir, 'monitoring.yaml'));
    await register('monitoring');
    expect(await configs.get('monitoring')).toEqual({ api_key: 'from-api', url: 'https://example.com', timeout: 30 });
  });

  it('ignores the site file of a pack without a config.schema.yaml (chat.yaml is the chat pack’s own)', async () => {
    await tmp.write({ 'packs/chat/pack.yaml': 'name: chat\nversion: 0.1.0\n', 'config/chat.yaml': 'targets: { anything: [goes] }\n' });
    const [result] = await register('chat');
    expect(result?.ok).toBe(true);
    expect(result?.ok === true && result.result.configFile).toBeFalsy();
    expect(await store.keys.get(PACK_CONFIG_SCOPE, 'chat')).toBeNull();
    expect(await packConfigs(store, sealing).get('chat')).toEqual({});
  });

  it('unregistering a pack deletes its values', async () => {
    await tmp.write({ ...monitoring, 'config/monitoring.yaml': 'api_key: k\n' });
    await register('monitoring');
    await unregisterPack(store, 'monitoring');
    expect(await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring')).toBeNull();
  });
});

describe('PackConfigs.put', () => {
  beforeEach(async () => {
    await tmp.write(monitoring);
    await register('monitoring');
  });

  it('refuses values that fail the schema, naming each field, and writes nothing', async () => {
    const configs = packConfigs(store, sealing);
    await configs.put('monitoring', { api_key: 'before' });
    const err = await configs.put('monitoring', { timeout: 'x', extra: 1 }, { root: 'body' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details).toEqual([
      { field: 'body.api_key', message: 'is required' },
      { field: 'body.extra', message: 'is not allowed' },
      { field: 'body.timeout', message: 'must be integer' },
    ]);
    expect(await configs.get('monitoring')).toMatchObject({ api_key: 'before' });
    await expect(configs.put('monitoring', ['a'])).rejects.toBeInstanceOf(ValidationError);
  });

  it('keeps a stored secret sent back as ********, and refuses the mask when none is stored', async () => {
    const configs = packConfigs(store, sealing);
    const err = await configs.put('monitoring', { api_key: '********' }).catch((e: unknown) => e);
    expect((err as ValidationError).details).toEqual([{ field: 'api_key', message: 'is ******** but no value is stored: give the value itself' }]);
    expect(await configs.put('monitoring', { api_key: 'k1', timeout: 1 })).toEqual({ api_key: '********', timeout: 1, url: 'https://example.com' });
    await configs.put('monitoring', { ...(await configs.getMasked('monitoring')), timeout: 2 });
    expect(await configs.get('monitoring')).toEqual({ api_key: 'k1', timeout: 2, url: 'https://example.com' });
  });

  it('refuses unknown packs and packs that take no configuration', async () => {
    await tmp.write({ 'packs/plain/pack.yaml': 'name: plain\nversion: 1.0.0\n' });
    await register('plain');
    const configs = packConfigs(store, sealing);
    await expect(configs.put('nowhere', {})).rejects.toBeInstanceOf(NotFoundError);
    await expect(configs.get('nowhere')).rejects.toBeInstanceOf(NotFoundError);
    const err = await configs.put('plain', {}, { root: 'body' }).catch((e: unknown) => e);
    expect((err as ValidationError).details).toEqual([{ field: 'body', message: "pack 'plain' takes no configuration (it has no config.schema.yaml)" }]);
  });
});

describe('config.schema.yaml', () => {
  it('as a JSON Schema must describe an object', async () => {
    await tmp.write({ 'packs/odd/pack.yaml': 'name: odd\nversion: 1.0.0\n', 'packs/odd/config.schema.yaml': 'type: string\n' });
    const loaded = await loadPack(path.join(tmp.path, 'packs/odd'));
    expect(loaded.errors.map((e) => `${e.file}:${e.line} ${e.field}: ${e.message}`)).toEqual([
      "odd/config.schema.yaml:1 type: must be 'object': a pack's configuration is a mapping",
    ]);
    expect(loaded.configSchema).toBeUndefined();
  });
});
