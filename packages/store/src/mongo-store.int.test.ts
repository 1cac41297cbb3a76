/**
 * The Store contract against a real MongoDB (MONGODB_URL). Every store the suite opens gets its own
 * database, dropped when the file is done. Without MONGODB_URL the suite is reported as skipped.
 */
import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runStoreConformance } from '../test/conformance.ts';
import { COLLECTIONS, createMongoStore } from './mongo-store.ts';

const mongodbUrl = inject('mongodbUrl');

if (mongodbUrl === '') {
  describe.skip('MongoDB store — SKIPPED: MONGODB_URL not set', () => {
    it('runs the Store conformance suite against MongoDB', () => undefined);
  });
} else {
  const databases: string[] = [];
  const freshDbName = (): string => {
    const name = `reflex_test_${randomUUID().replaceAll('-', '')}`;
    databases.push(name);
    return name;
  };

  afterAll(async () => {
    const client = new MongoClient(mongodbUrl);
    try {
      for (const name of databases) await client.db(name).dropDatabase();
    } finally {
      await client.close();
    }
  });

  runStoreConformance('MongoDB', () => createMongoStore({ url: mongodbUrl, dbName: freshDbName() }));

  describe('MongoDB store', () => {
    it('creates the filter, paging and TTL indexes', async () => {
      const dbName = freshDbName();
      const store = await createMongoStore({ url: mongodbUrl, dbName });
      const client = new MongoClient(mongodbUrl);
      try {
        const db = client.db(dbName);
        for (const name of [COLLECTIONS.events, COLLECTIONS.enforcements, COLLECTIONS.executions, COLLECTIONS.outputs, COLLECTIONS.slots]) {
          const ttl = (await db.collection(name).indexes()).find((index) => index.name === 'ttl_expireAt');
          expect(ttl, name).toMatchObject({ key: { expireAt: 1 }, expireAfterSeconds: 0 });
        }
        const executions = (await db.collection(COLLECTIONS.executions).indexes()).map((index) => index.name);
        expect(executions).toEqual(expect.arrayContaining(['createdAt_id', 'status_createdAt_id', 'eventId_createdAt_id']));
        const outputs = (await db.collection(COLLECTIONS.outputs).indexes()).map((index) => index.name);
        expect(outputs).toContain('executionId_seq');
        // Opening again over existing indexes is harmless.
        await (await createMongoStore({ url: mongodbUrl, dbName })).close();
      } finally {
        await client.close();
        await store.close();
      }
    });

    it('two clients racing for the last slot: exactly one takes it, and both see the same holder', async () => {
      const dbName = freshDbName();
      const a = await createMongoStore({ url: mongodbUrl, dbName });
      const b = await createMongoStore({ url: mongodbUrl, dbName });
      try {
        const enqueuedAt = new Date().toISOString();
        const tries = Array.from({ length: 10 }, (_, i) => [
          a.slots.acquire('core.local', `a-${i}`, 1, 60_000, enqueuedAt),
          b.slots.acquire('core.local', `b-${i}`, 1, 60_000, enqueuedAt),
        ]).flat();
        expect((await Promise.all(tries)).filter(Boolean)).toHaveLength(1);
        const holders = await a.slots.holders('core.local');
        expect(holders).toHaveLength(1);
        expect(await b.slots.holders('core.local')).toEqual(holders);
      } finally {
        await a.close();
        await b.close();
      }
    });

    it('stores expireAt as a Date and keeps it (and _id) out of what it returns', async () => {
      const dbName = freshDbName();
      const store = await createMongoStore({ url: mongodbUrl, dbName });
      const client = new MongoClient(mongodbUrl);
      try {
        const occurredAt = new Date().toISOString();
        const event = { id: 'evt-1', type: 'core.webhook', source: 'test', payload: {}, occurredAt, traceId: 't' };
        await store.events.insert(event);
        const raw = await client.db(dbName).collection<{ _id: string; expireAt?: Date }>(COLLECTIONS.events).findOne({ _id: 'evt-1' });
        expect(raw?.expireAt).toBeInstanceOf(Date);
        expect(await store.events.get('evt-1')).toStrictEqual(event);
      } finally {
        await client.close();
        await store.close();
      }
    });
  });
}
