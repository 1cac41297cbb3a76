/**
 * For the API's own tests: an API on an in-memory store and an embedded bus with the core pack
 * registered, and keys of any role made straight in the store. Not exported from the package.
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino, type Logger } from 'pino';
import { hashKey, newKeySecret, newSecretsKey } from '@reflex/auth';
import { createEmbeddedBus, type Bus } from '@reflex/bus';
import { busNames, newId, type BusNames } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { ensureStreams } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { buildApi } from './app.ts';
import type { Limits } from './rate-limits.ts';

export const PACKS = fileURLToPath(new URL('../../../packs', import.meta.url));

export interface TestApi {
  app: FastifyInstance;
  store: Store;
  bus: Bus;
  names: BusNames;
  secretsKey: Buffer;
  /** An admin key (auth on) made before the API started. */
  adminKey: string;
  close(): Promise<void>;
}

/** Makes a key of `role` in the store; returns the key string. */
export async function makeKey(store: Store, role: string, options: { name?: string; expiresAt?: string } = {}): Promise<string> {
  const id = newId();
  const key = newKeySecret(id);
  await store.apiKeys.insert({
    id,
    name: options.name ?? `${role}-${id.slice(-6)}`,
    role,
    kind: 'key',
    hash: hashKey(key),
    createdAt: new Date().toISOString(),
    ...(options.expiresAt === undefined ? {} : { expiresAt: options.expiresAt }),
  });
  return key;
}

export const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

export async function startTestApi(options: { auth: boolean; bodyLimitBytes?: number; limits?: Partial<Limits>; logger?: Logger }): Promise<TestApi> {
  const store = await createSqliteStore({ path: ':memory:' });
  const bus = await createEmbeddedBus();
  const names = busNames(`apitest${newId().slice(-8).toLowerCase()}`);
  await ensureStreams(bus, names);
  await registerPacks(store, await discoverPacks([PACKS]));
  const adminKey = await makeKey(store, 'admin', { name: 'test-admin' });
  const secretsKey = newSecretsKey();
  const app = await buildApi({
    store,
    bus,
    names,
    logger: options.logger ?? pino({ level: 'silent' }),
    packsPaths: [PACKS],
    bodyLimitBytes: options.bodyLimitBytes ?? 1 << 20,
    auth: { enabled: options.auth, secretsKey },
    limits: { rateLimitPerMinute: 0, webhookRateLimitPerMinute: 0, ...options.limits },
  });
  return {
    app,
    store,
    bus,
    names,
    secretsKey,
    adminKey,
    close: async () => {
      await app.close();
      await bus.close();
      await store.close();
    },
  };
}
