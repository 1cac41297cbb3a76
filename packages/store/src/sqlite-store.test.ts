import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { DatabaseSync } from 'node:sqlite';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationError, type Execution, type ReflexEvent } from '@reflex/model';
import { runStoreConformance } from '../test/conformance.ts';
import { createSqliteStore } from './sqlite-store.ts';
import { SCHEMA_VERSION } from './sqlite-schema.ts';

const dir = mkdtempSync(join(tmpdir(), 'reflex-store-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A database file in a folder that does not exist yet. */
const freshPath = (): string => join(dir, randomUUID(), 'nested', 'reflex.sqlite');

runStoreConformance('SQLite :memory:', () => createSqliteStore({ path: ':memory:' }));
runStoreConformance('SQLite file', () => createSqliteStore({ path: freshPath() }));

const now = (): string => new Date().toISOString();

function event(id: string, occurredAt = now()): ReflexEvent {
  return { id, type: 'core.webhook', source: 'test', payload: { id }, occurredAt, traceId: 't' };
}

function execution(id: string): Execution {
  const t = now();
  return {
    id,
    action: 'core.echo',
    runner: 'node',
    parameters: {},
    status: 'requested',
    traceId: 't',
    attempt: 0,
    history: [{ status: 'requested', at: t, attempt: 0 }],
    createdAt: t,
    updatedAt: t,
  };
}

describe('SQLite store', () => {
  it('survives close and reopen, in WAL mode at the current schema version', async () => {
    const path = freshPath();
    const first = await createSqliteStore({ path });
    await first.packs.upsert({ name: 'p', version: '1.0.0', path: '/p', registeredAt: now() });
    const stored = event('evt-1');
    await first.record([{ event: stored, enforcements: [], executions: [execution('exe-1')] }]);
    const running = await first.executions.transition('exe-1', 'running', { host: 'h1' });
    await first.close();
    await first.close();

    const second = await createSqliteStore({ path });
    try {
      expect(await second.packs.get('p')).toMatchObject({ name: 'p' });
      expect(await second.events.get('evt-1')).toStrictEqual(stored);
      expect(await second.executions.get('exe-1')).toStrictEqual(running);
    } finally {
      await second.close();
    }

    const raw = new DatabaseSync(path, { readOnly: true });
    try {
      expect(raw.prepare('PRAGMA journal_mode').get()).toMatchObject({ journal_mode: 'wal' });
      expect(raw.prepare('PRAGMA user_version').get()).toMatchObject({ user_version: SCHEMA_VERSION });
    } finally {
      raw.close();
    }
  });

  it('two stores on one file see each other, and only one of them wins a transition', async () => {
    const path = freshPath();
    const a = await createSqliteStore({ path });
    const b = await createSqliteStore({ path });
    try {
      expect(await a.executions.insert(execution('exe-1'))).toBe(true);
      expect(await b.executions.insert(execution('exe-1'))).toBe(false);
      const settled = await Promise.allSettled([
        a.executions.transition('exe-1', 'running', { host: 'a' }),
        b.executions.transition('exe-1', 'running', { host: 'b' }),
      ]);
      expect(settled.filter((s) => s.status === 'fulfilled')).toHaveLength(1);
      expect((await b.executions.get('exe-1'))?.host).toBe('a');
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('two stores on one file racing for the last slot: exactly one takes it', async () => {
    const path = freshPath();
    const a = await createSqliteStore({ path });
    const b = await createSqliteStore({ path });
    try {
      const enqueuedAt = now();
      const tries = Array.from({ length: 10 }, (_, i) => [
        a.slots.acquire('core.local', `a-${i}`, 1, 60_000, enqueuedAt),
        b.slots.acquire('core.local', `b-${i}`, 1, 60_000, enqueuedAt),
      ]).flat();
      const won = (await Promise.all(tries)).filter(Boolean);
      expect(won).toHaveLength(1);
      const holders = await a.slots.holders('core.local');
      expect(holders).toHaveLength(1);
      expect(await b.slots.holders('core.local')).toEqual(holders);
      // The holder's release, seen through the other store, lets only the head of the queue in
      // (equal enqueuedAt: the smallest holder id).
      const holder = holders[0] ?? '';
      await (holder.startsWith('a-') ? a : b).slots.release('core.local', holder);
      const [head, next] = Array.from({ length: 10 }, (_, i) => [`a-${i}`, `b-${i}`])
        .flat()
        .filter((h) => h !== holder)
        .sort();
      expect(await b.slots.acquire('core.local', next ?? '', 1, 60_000, enqueuedAt)).toBe(false);
      expect(await a.slots.acquire('core.local', head ?? '', 1, 60_000, enqueuedAt)).toBe(true);
      expect(await b.slots.holders('core.local')).toEqual([head]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('four processes on one file racing for 40 slots of limit 1: each slot has exactly one holder', async () => {
    const path = freshPath();
    await (await createSqliteStore({ path })).close(); // migrated before the race
    const racer = fileURLToPath(new URL('../test/slot-racer.ts', import.meta.url));
    const keys = 40;
    const startAt = Date.now() + 1500; // every process is open and waiting by then
    const runs = ['p1', 'p2', 'p3', 'p4'].map(async (holder) => {
      const { stdout } = await promisify(execFile)(process.execPath, ['--no-warnings', racer, path, holder, String(startAt), String(keys)]);
      return { holder, won: JSON.parse(stdout) as string[] };
    });
    const results = await Promise.all(runs);
    const winners = new Map<string, string[]>();
    for (const { holder, won } of results) for (const key of won) winners.set(key, [...(winners.get(key) ?? []), holder]);
    expect(winners.size).toBe(keys);
    for (const [key, holders] of winners) expect(holders, key).toHaveLength(1);

    const store = await createSqliteStore({ path });
    try {
      for (let i = 0; i < keys; i++) expect(await store.slots.holders(`k${i}`)).toEqual(winners.get(`k${i}`));
    } finally {
      await store.close();
    }
  });

  it('migrates a version 1 database to the current schema, keeping its records', async () => {
    const path = freshPath();
    await (await createSqliteStore({ path })).close();
    // Back to version 1 as it shipped, with an execution written before history existed.
    const raw = new DatabaseSync(path);
    raw.exec(
      'DROP TABLE noise_state; DROP TABLE decisions; DROP TABLE silences; DROP TABLE inhibitions; DROP TABLE kv; DROP TABLE api_keys; DROP TABLE roles; DROP TABLE audit; DROP TABLE webhook_auth; ' +
        'DROP TABLE output_chunks; DROP TABLE slot_holders; DROP TABLE slot_queue; PRAGMA user_version = 1',
    );
    const old: Partial<Execution> = execution('exe-old');
    delete old.history;
    raw
      .prepare('INSERT INTO executions (id, action, status, created_ms, doc) VALUES (?, ?, ?, ?, ?)')
      .run('exe-old', 'core.echo', 'requested', Date.now(), JSON.stringify(old));
    raw.close();

    const store = await createSqliteStore({ path });
    try {
      const running = await store.executions.transition('exe-old', 'running', { attempt: 1 });
      expect(running.history).toStrictEqual([{ status: 'running', at: running.updatedAt, attempt: 1 }]);
      await store.outputs.append('exe-old', [{ seq: 1, stream: 'stdout', text: 'hi', at: now() }]);
      expect(await store.outputs.list('exe-old')).toHaveLength(1);
      expect(await store.slots.acquire('k', 'exe-old', 1, 60_000, now())).toBe(true);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path, { readOnly: true });
    expect(check.prepare('PRAGMA user_version').get()).toMatchObject({ user_version: SCHEMA_VERSION });
    check.close();
  });

  it('migrates a version 2 database to the current schema (auth tables, datastore), keeping its records', async () => {
    const path = freshPath();
    const first = await createSqliteStore({ path });
    await first.executions.insert(execution('exe-v2'));
    await first.close();
    const raw = new DatabaseSync(path);
    raw.exec('DROP TABLE noise_state; DROP TABLE decisions; DROP TABLE silences; DROP TABLE inhibitions; DROP TABLE kv; DROP TABLE api_keys; DROP TABLE roles; DROP TABLE audit; DROP TABLE webhook_auth; PRAGMA user_version = 2');
    raw.close();

    const store = await createSqliteStore({ path });
    try {
      expect(await store.executions.get('exe-v2')).not.toBeNull();
      await store.apiKeys.insert({ id: 'k1', name: 'ann', role: 'admin', kind: 'key', hash: 'h', createdAt: now() });
      expect((await store.apiKeys.list()).map((k) => k.id)).toEqual(['k1']);
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path, { readOnly: true });
    expect(check.prepare('PRAGMA user_version').get()).toMatchObject({ user_version: SCHEMA_VERSION });
    check.close();
  });

  it('migrates a version 4 database to the current schema (noise control), keeping its records', async () => {
    const path = freshPath();
    const first = await createSqliteStore({ path });
    await first.executions.insert(execution('exe-v4'));
    await first.keys.put({ scope: 'system', name: 'kept', value: 1 });
    await first.close();
    const raw = new DatabaseSync(path);
    raw.exec('DROP TABLE noise_state; DROP TABLE decisions; DROP TABLE silences; DROP TABLE inhibitions; PRAGMA user_version = 4');
    raw.close();

    const store = await createSqliteStore({ path });
    try {
      expect(await store.executions.get('exe-v4')).not.toBeNull();
      expect((await store.keys.get('system', 'kept'))?.value).toBe(1);
      expect(await store.noiseState.update('k', new Date(), () => ({ write: { owner: 'p.r', data: { n: 1 } }, result: 'written' }))).toBe('written');
    } finally {
      await store.close();
    }
    const check = new DatabaseSync(path, { readOnly: true });
    expect(check.prepare('PRAGMA user_version').get()).toMatchObject({ user_version: SCHEMA_VERSION });
    check.close();
  });

  it('keeps noise state updates atomic across two stores on one file', async () => {
    const path = freshPath();
    const [a, b] = [await createSqliteStore({ path }), await createSqliteStore({ path })];
    try {
      const bump = (store: typeof a) =>
        store.noiseState.update('shared', new Date(), (current) => {
          const n = typeof current?.data['n'] === 'number' ? current.data['n'] : 0;
          return { write: { owner: 'p.r', data: { n: n + 1 } }, result: n + 1 };
        });
      await Promise.all(Array.from({ length: 30 }, (_, i) => bump(i % 2 === 0 ? a : b)));
      expect((await b.noiseState.get('shared'))?.data).toEqual({ n: 30 });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('sweeps expired rows on its own interval, and stops when closed', async () => {
    const sweepErrors: unknown[] = [];
    const store = await createSqliteStore({
      path: ':memory:',
      retention: { eventsMs: 50 },
      sweepIntervalMs: 20,
      onSweepError: (err) => sweepErrors.push(err),
    });
    try {
      await store.events.insert(event('evt-1'));
      await store.executions.insert(execution('exe-1'));
      const deadline = Date.now() + 5000;
      while ((await store.events.get('evt-1')) !== null && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(await store.events.get('evt-1')).toBeNull();
      expect(await store.executions.get('exe-1')).not.toBeNull();
    } finally {
      await store.close();
    }
    // A sweep after close would fail on the closed database; none may run.
    await new Promise((r) => setTimeout(r, 80));
    expect(sweepErrors).toEqual([]);
  });

  it('keeps records forever when a retention is 0', async () => {
    const store = await createSqliteStore({ path: ':memory:', retention: { eventsMs: 0 }, sweepIntervalMs: 0 });
    try {
      await store.events.insert(event('evt-1'));
      await store.executions.insert(execution('exe-1'));
      const farFuture = new Date(Date.now() + 100 * 365 * 24 * 3600 * 1000);
      expect(await store.purgeExpired(farFuture)).toEqual({ events: 0, executions: 1, enforcements: 0, outputs: 0 });
      expect(await store.events.get('evt-1')).not.toBeNull();
    } finally {
      await store.close();
    }
  });

  it('refuses a negative retention, naming the field', async () => {
    const err = await createSqliteStore({ path: ':memory:', retention: { executionsMs: -1 } }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({ details: [{ field: 'retention.executionsMs' }] });
  });

  it('refuses a database written by a newer schema, and leaves it alone', async () => {
    const path = freshPath();
    await (await createSqliteStore({ path })).close();
    const raw = new DatabaseSync(path);
    raw.exec(`PRAGMA user_version = ${SCHEMA_VERSION + 1}`);
    raw.close();

    const err = await createSqliteStore({ path }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'STORE_SCHEMA_TOO_NEW' });
    const check = new DatabaseSync(path, { readOnly: true });
    expect(check.prepare('PRAGMA user_version').get()).toMatchObject({ user_version: SCHEMA_VERSION + 1 });
    check.close();
  });
});
