/** `packKv` against the embedded bus and an in-memory SQLite store: the pack's scope only, checks, secrets, announced writes. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, decodeJson, type Bus } from '@reflex/bus';
import { busNames, KV_VALUE_MAX_BYTES, type JsonValue, type PackKvRequest } from '@reflex/model';
import { createSqliteStore, type Store } from '@reflex/store';
import { packKv, type PackKvDeps } from './pack-kv.ts';
import type { ChangeNotice } from './protocol.ts';

const names = busNames(`packkv${process.pid}`);

describe('packKv', () => {
  let store: Store;
  let bus: Bus;
  let deps: PackKvDeps;
  const notices: ChangeNotice[] = [];
  const warnings: object[] = [];

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    bus.subscribe(names.controlSubject('keys'), (_subject, data) => notices.push(decodeJson<ChangeNotice>(data)));
    notices.length = 0;
    warnings.length = 0;
    deps = { store, bus, names, logger: { warn: (obj) => warnings.push(obj) }, reader: 'actions', service: 'action-runner' };
  });

  afterEach(async () => {
    await bus.close();
    await store.close();
  });

  const kv = (request: PackKvRequest, d: PackKvDeps = deps): Promise<JsonValue> => packKv(d, 'ops', request);

  it('reads and writes the scope of the pack alone, and announces writes', async () => {
    await store.keys.put({ scope: 'system', name: 'oncall', value: 'ana' });
    expect(await kv({ op: 'get', name: 'oncall' })).toBeNull();
    expect(await kv({ op: 'put', name: 'limit', value: { disk: 90 }, ttlSeconds: 60 })).toBeNull();
    const entry = await store.keys.get('pack:ops', 'limit');
    expect(entry).toMatchObject({ value: { disk: 90 } });
    expect(Date.parse(entry?.expiresAt ?? '')).toBeGreaterThan(Date.now());
    expect(await kv({ op: 'get', name: 'limit' })).toEqual({ disk: 90 });
    expect(await kv({ op: 'delete', name: 'limit' })).toBe(true);
    expect(await kv({ op: 'delete', name: 'limit' })).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(notices).toEqual([
      { topic: 'keys', op: 'update', ref: 'pack:ops/limit' },
      { topic: 'keys', op: 'delete', ref: 'pack:ops/limit' },
    ]);
  });

  it('refuses bad names, values, TTLs and ops with coded errors', async () => {
    await expect(kv({ op: 'get', name: 'a/b' })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(kv({ op: 'get', name: 5 as unknown as string })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(kv({ op: 'put', name: 'big', value: 'x'.repeat(KV_VALUE_MAX_BYTES) })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(kv({ op: 'put', name: 'none' } as PackKvRequest)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(kv({ op: 'put', name: 'ttl', value: 1, ttlSeconds: 1.5 })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(kv({ op: 'drop', name: 'x' } as unknown as PackKvRequest)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    expect(await store.keys.list('pack:ops')).toEqual([]);
  });

  it('opens a secret only with an opener, and says who cannot read it without one', async () => {
    await store.keys.put({ scope: 'pack:ops', name: 'token', value: 'sealed:hush', secret: true });
    await expect(kv({ op: 'get', name: 'token' })).rejects.toMatchObject({
      code: 'SECRET_UNREADABLE',
      message: "'token' is a secret; actions cannot read secrets here (the action-runner service has no secrets key)",
    });
    const opened = await kv({ op: 'get', name: 'token' }, { ...deps, openSecret: (entry) => String(entry.value).replace('sealed:', '') });
    expect(opened).toBe('hush');
  });
});
