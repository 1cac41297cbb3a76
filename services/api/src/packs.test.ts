/**
 * Packs through the API: unregistering (refused while other packs depend on the pack), and
 * configuration values — from the site's `<config dir>/<pack>.yaml` at registration or PUT through
 * the API, checked against config.schema.yaml, secrets sealed at rest and masked on the way out.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { newSecretsKey, openKeyValue } from '@reflex/auth';
import { createEmbeddedBus, decodeJson, type Bus } from '@reflex/bus';
import { busNames, SECRET_MASK, type JsonObject } from '@reflex/model';
import { discoverPacks, PACK_CONFIG_SCOPE, registerPacks } from '@reflex/packs';
import { ensureStreams } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import type { FastifyInstance } from 'fastify';
import { buildApi } from './app.ts';
import { bearer, makeKey, PACKS } from './testing.ts';

const schemaYaml = ['api_key:', '  type: string', '  required: true', '  secret: true', 'timeout:', '  type: integer', '  default: 30', ''].join('\n');

describe('packs API', () => {
  let dir: string;
  let store: Store;
  let bus: Bus;
  let app: FastifyInstance;
  let admin: string;
  let viewer: string;
  const secretsKey = newSecretsKey();
  const notices: Array<{ topic: string; op: string; ref?: string }> = [];

  const write = async (files: Record<string, string>): Promise<void> => {
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
      await writeFile(path.join(dir, rel), text);
    }
  };

  const call = async (method: 'GET' | 'PUT' | 'DELETE' | 'POST', url: string, options: { key?: string; body?: unknown } = {}) => {
    const res = await app.inject({ method, url, headers: bearer(options.key ?? admin), ...(options.body === undefined ? {} : { payload: options.body as object }) });
    return { status: res.statusCode, body: res.body === '' ? null : res.json() };
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reflex-api-packs-'));
    await write({
      'packs/monitoring/pack.yaml': 'name: monitoring\nversion: 1.0.0\ndependencies:\n  core: ^0.1.0\n',
      'packs/monitoring/config.schema.yaml': schemaYaml,
      'packs/leaf/pack.yaml': 'name: leaf\nversion: 1.0.0\ndependencies:\n  monitoring: ^1.0.0\n',
      'packs/leaf/actions/hi.yaml': 'name: hi\nrunner_type: noop\n',
      'config/monitoring.yaml': 'api_key: file-secret-value\n',
      'config/chat.yaml': 'targets: {}\n',
    });
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    const names = busNames(`apipacks${Date.now().toString(36)}`);
    await ensureStreams(bus, names);
    await registerPacks(store, await discoverPacks([PACKS]));
    admin = await makeKey(store, 'admin');
    viewer = await makeKey(store, 'viewer');
    app = await buildApi({
      store,
      bus,
      names,
      logger: pino({ level: 'silent' }),
      packsPaths: [PACKS, path.join(dir, 'packs')],
      configDir: path.join(dir, 'config'),
      bodyLimitBytes: 1 << 20,
      auth: { enabled: true, secretsKey },
      limits: { rateLimitPerMinute: 0, webhookRateLimitPerMinute: 0 },
    });
    bus.subscribe(names.controlSubject('packs'), (_subject, data) => notices.push(decodeJson(data)));
  });

  afterAll(async () => {
    await app.close();
    await bus.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('GET shows a pack\'s contents, with the sensors, policy files and aliases read from its folder', async () => {
    const examples = await call('GET', '/v1/packs/examples', { key: viewer });
    expect(examples.status).toBe(200);
    expect(examples.body).toMatchObject({
      name: 'examples',
      actions: expect.arrayContaining([expect.objectContaining({ ref: 'examples.disk_usage' })]),
      rules: [expect.objectContaining({ ref: 'examples.format_metric_alert' })],
      sensors: [],
      policies: [expect.objectContaining({ resourceRef: 'examples.disk_usage' })],
      aliases: [expect.objectContaining({ actionRef: 'examples.format_alert' })],
    });
    const linux = await call('GET', '/v1/packs/linux', { key: viewer });
    expect(linux.body).toMatchObject({ sensors: [expect.objectContaining({ ref: 'linux.host_metrics', triggerTypes: ['linux.disk_usage', 'linux.load'] })] });
  });

  it('registers a pack with its site configuration: the secret sealed at rest, masked in GET', async () => {
    const registered = await call('POST', '/v1/packs/register', { body: { packs: ['monitoring', 'leaf'] } });
    expect(registered.status).toBe(200);
    const results = registered.body.results as Array<{ pack: string; ok: boolean; result?: { configFile?: string } }>;
    expect(results.map((r) => [r.pack, r.ok])).toEqual([['leaf', true], ['monitoring', true]]);
    expect(results[1]?.result?.configFile).toBe(path.join(dir, 'config', 'monitoring.yaml'));
    expect(results[0]?.result?.configFile).toBeUndefined();

    const raw = await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring');
    expect(JSON.stringify(raw)).not.toContain('file-secret-value');
    expect(openKeyValue(secretsKey, PACK_CONFIG_SCOPE, 'monitoring/api_key', (raw?.value as JsonObject)['api_key'] ?? null)).toBe('file-secret-value');

    const shown = await call('GET', '/v1/packs/monitoring/config', { key: viewer });
    expect(shown).toEqual({ status: 200, body: { pack: 'monitoring', values: { api_key: SECRET_MASK, timeout: 30 } } });
    expect((await call('GET', '/v1/packs/core/config')).body).toEqual({ pack: 'core', values: {} });
    expect((await call('GET', '/v1/packs/nowhere/config')).status).toBe(404);
    expect((await call('GET', '/v1/packs/monitoring')).body.configSchema).toMatchObject({ required: ['api_key'] });
  });

  it('PUT checks values against the schema, naming the field, and writes nothing when they fail', async () => {
    const before = await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring');
    const bad = await call('PUT', '/v1/packs/monitoring/config', { body: { api_key: 'new', timeout: 'soon', color: 'red' } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('VALIDATION_FAILED');
    expect(bad.body.error.details).toEqual([
      { field: 'body.color', message: 'is not allowed' },
      { field: 'body.timeout', message: 'must be integer' },
    ]);
    expect(await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring')).toEqual(before);

    const noSchema = await call('PUT', '/v1/packs/core/config', { body: {} });
    expect(noSchema.status).toBe(400);
    expect(noSchema.body.error.details[0].field).toBe('body');
    expect((await call('PUT', '/v1/packs/monitoring/config', { key: viewer, body: { api_key: 'x' } })).status).toBe(403);
  });

  it('PUT replaces the values, keeps a secret sent back masked, and is audited without values', async () => {
    const put = await call('PUT', '/v1/packs/monitoring/config', { body: { api_key: 'api-secret-value', timeout: 5 } });
    expect(put).toEqual({ status: 200, body: { pack: 'monitoring', values: { api_key: SECRET_MASK, timeout: 5 } } });
    const again = await call('PUT', '/v1/packs/monitoring/config', { body: { api_key: SECRET_MASK, timeout: 6 } });
    expect(again.status).toBe(200);
    const raw = await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring');
    expect(JSON.stringify(raw)).not.toContain('api-secret-value');
    expect(openKeyValue(secretsKey, PACK_CONFIG_SCOPE, 'monitoring/api_key', (raw?.value as JsonObject)['api_key'] ?? null)).toBe('api-secret-value');

    const audit = await call('GET', '/v1/audit?targetType=pack&target=monitoring');
    expect(audit.body.items[0]).toMatchObject({ action: 'pack.configure', details: { properties: ['api_key', 'timeout'] } });
    expect(JSON.stringify(audit.body)).not.toContain('api-secret-value');
    expect(notices).toContainEqual({ topic: 'packs', op: 'update', ref: 'monitoring' });
  });

  it('refuses a registration whose site file fails the schema, with file:line errors', async () => {
    await write({ 'config/monitoring.yaml': 'api_key: 42\n' });
    const res = await call('POST', '/v1/packs/register', { body: { packs: ['monitoring'] } });
    expect(res.body.results[0]).toMatchObject({
      pack: 'monitoring',
      ok: false,
      errors: [{ file: path.join(dir, 'config', 'monitoring.yaml'), line: 1, field: 'api_key', message: 'must be string' }],
    });
    await write({ 'config/monitoring.yaml': 'api_key: file-secret-value\n' });
  });

  it('DELETE refuses a pack others depend on (409, naming them), 404 for an unknown one, and unregisters a leaf', async () => {
    const inUse = await call('DELETE', '/v1/packs/monitoring');
    expect(inUse.status).toBe(409);
    expect(inUse.body.error).toMatchObject({ code: 'PACK_IN_USE', message: "pack 'monitoring' is a dependency of 'leaf': unregister it first" });
    const core = await call('DELETE', '/v1/packs/core');
    expect(core.status).toBe(409);
    expect(core.body.error.message).toContain("'alerting'");
    expect((await call('DELETE', '/v1/packs/nowhere')).status).toBe(404);
    expect((await call('DELETE', '/v1/packs/leaf', { key: viewer })).status).toBe(403);

    const gone = await call('DELETE', '/v1/packs/leaf');
    expect(gone).toEqual({ status: 200, body: { pack: 'leaf', removed: { triggerTypes: 0, actions: 1, rules: 0 } } });
    expect((await call('GET', '/v1/packs/leaf')).status).toBe(404);
    expect(await store.actions.get('leaf.hi')).toBeNull();
    const audit = await call('GET', '/v1/audit?targetType=pack&target=leaf');
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(['pack.unregister']);
    expect(notices).toContainEqual({ topic: 'packs', op: 'unregister', ref: 'leaf' });

    // Now nothing depends on monitoring: it goes, with its configuration values.
    expect((await call('DELETE', '/v1/packs/monitoring')).status).toBe(200);
    expect(await store.keys.get(PACK_CONFIG_SCOPE, 'monitoring')).toBeNull();
  });
});
