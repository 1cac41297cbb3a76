/**
 * Opens the bus and the store a config asks for: NATS JetStream / MongoDB when their URLs are set,
 * otherwise the embedded adapters with their files under the data dir.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createEmbeddedBus, createNatsBus, type Bus } from '@reflex/bus';
import { busNames, type BusNames } from '@reflex/model';
import { createMongoStore, createSqliteStore, type RetentionConfig, type Store } from '@reflex/store';
import type { ReflexConfig } from '@reflex/config';

const DAY_MS = 24 * 3600 * 1000;

export function retentionOf(config: ReflexConfig): RetentionConfig {
  return {
    eventsMs: config.eventsRetentionDays * DAY_MS,
    executionsMs: config.executionsRetentionDays * DAY_MS,
  };
}

export async function openBus(config: ReflexConfig, clientName: string): Promise<Bus> {
  if (config.natsUrl !== '') return await createNatsBus({ servers: config.natsUrl.split(','), name: clientName });
  mkdirSync(config.dataDir, { recursive: true });
  return await createEmbeddedBus({ path: join(config.dataDir, 'bus.sqlite') });
}

export async function openStore(config: ReflexConfig): Promise<Store> {
  const retention = retentionOf(config);
  if (config.mongodbUrl !== '') return await createMongoStore({ url: config.mongodbUrl, dbName: config.mongodbDb, retention });
  mkdirSync(config.dataDir, { recursive: true });
  return await createSqliteStore({ path: join(config.dataDir, 'reflex.sqlite'), retention });
}

/** Bus messages are a hand-off, not the record: a day is plenty for a consumer to catch up. */
const STREAM_MAX_AGE_MS = DAY_MS;

/** Creates (or updates) the streams every service relies on; idempotent, any service may call it. */
export async function ensureStreams(bus: Bus, names: BusNames): Promise<void> {
  await bus.ensureStream({ name: names.eventsStream, subjects: [names.eventsWildcard], maxAgeMs: STREAM_MAX_AGE_MS });
  await bus.ensureStream({ name: names.executionsStream, subjects: [names.executionsWildcard], maxAgeMs: STREAM_MAX_AGE_MS });
}

export function namesOf(config: ReflexConfig): BusNames {
  return busNames(config.busPrefix);
}
