/**
 * The Store contract, run against every adapter. An adapter is done when all of it passes.
 * Each test gets a fresh, empty store from `factory` and closes it afterwards.
 *
 * Records are timestamped around "an hour ago": well inside any retention, so a backend's own
 * expiry (MongoDB's TTL monitor) never removes them while a test runs.
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  ConflictError,
  NotFoundError,
  ValidationError,
  type Action,
  type Enforcement,
  type Execution,
  type ExecutionStatus,
  type ReflexEvent,
  type TriggerType,
} from '@reflex/model';
import { DEFAULT_RETENTION, type Store } from '../src/index.ts';
import {
  HOUR,
  MINUTE,
  T0,
  at,
  collectPages,
  makeAction,
  makeEnforcement,
  makeEvent,
  makeExecution,
  makeFiring,
  makePack,
  makeRule,
  makeTriggerType,
  newestFirst,
  outputChunk,
  rejection,
} from './fixtures.ts';
import { runAuthConformance } from './auth-conformance.ts';
import { runKeysConformance } from './keys-conformance.ts';
import { runLifecycleConformance } from './lifecycle-conformance.ts';
import { runNoiseConformance } from './noise-conformance.ts';

export function runStoreConformance(name: string, factory: () => Promise<Store>): void {
  describe(`Store conformance: ${name}`, () => {
    let store: Store;

    beforeEach(async () => {
      store = await factory();
    });

    afterEach(async () => {
      await store.close();
    });

    it('answers ping and tolerates a second close', async () => {
      await store.ping();
      const extra = await factory();
      await extra.close();
      await extra.close();
    });

    describe('packs', () => {
      it('upserts, gets, lists by name and deletes', async () => {
        expect(await store.packs.get('zeta')).toBeNull();
        await store.packs.upsert(makePack('zeta'));
        await store.packs.upsert(makePack('alpha', { description: 'first', dependencies: { core: '^1.0.0' } }));
        await store.packs.upsert(makePack('zeta', { version: '2.0.0' }));

        expect(await store.packs.get('zeta')).toStrictEqual(makePack('zeta', { version: '2.0.0' }));
        expect((await store.packs.list()).map((p) => p.name)).toEqual(['alpha', 'zeta']);
        expect(await store.packs.get('alpha')).toStrictEqual(
          makePack('alpha', { description: 'first', dependencies: { core: '^1.0.0' } }),
        );

        expect(await store.packs.delete('zeta')).toBe(true);
        expect(await store.packs.delete('zeta')).toBe(false);
        expect(await store.packs.get('zeta')).toBeNull();
        expect((await store.packs.list()).map((p) => p.name)).toEqual(['alpha']);
      });
    });

    for (const repo of ['triggerTypes', 'actions'] as const) {
      describe(repo, () => {
        const make = (pack: string, itemName: string, description?: string): Action | TriggerType =>
          repo === 'actions'
            ? makeAction(pack, itemName, description === undefined ? {} : { description })
            : makeTriggerType(pack, itemName, description === undefined ? {} : { description });
        // The two repos hold different record types behind one interface shape.
        const repoOf = (s: Store) =>
          s[repo] as unknown as {
            upsert(item: Action | TriggerType): Promise<void>;
            get(ref: string): Promise<Action | TriggerType | null>;
            list(filter?: { pack?: string }): Promise<(Action | TriggerType)[]>;
            deleteByPack(pack: string, keepRefs?: string[]): Promise<number>;
          };

        it('upserts, gets, lists (by pack, ordered by ref)', async () => {
          const r = repoOf(store);
          await r.upsert(make('a', 'two'));
          await r.upsert(make('a', 'one'));
          await r.upsert(make('b', 'three'));
          await r.upsert(make('a', 'two', 'replaced'));

          expect(await r.get('a.two')).toStrictEqual(make('a', 'two', 'replaced'));
          expect(await r.get('a.nope')).toBeNull();
          expect((await r.list()).map((i) => i.ref)).toEqual(['a.one', 'a.two', 'b.three']);
          expect((await r.list({ pack: 'a' })).map((i) => i.ref)).toEqual(['a.one', 'a.two']);
          expect(await r.list({ pack: 'c' })).toEqual([]);
        });

        it('deleteByPack removes the pack items not kept, and only them', async () => {
          const r = repoOf(store);
          for (const n of ['keep', 'drop1', 'drop2']) await r.upsert(make('a', n));
          await r.upsert(make('b', 'drop1'));

          expect(await r.deleteByPack('a', ['a.keep', 'b.drop1'])).toBe(2);
          expect((await r.list()).map((i) => i.ref)).toEqual(['a.keep', 'b.drop1']);
          expect(await r.deleteByPack('a')).toBe(1);
          expect(await r.deleteByPack('a')).toBe(0);
          expect((await r.list()).map((i) => i.ref)).toEqual(['b.drop1']);
        });
      });
    }

    describe('rules', () => {
      it('inserts, refuses a taken ref with RULE_EXISTS, replaces with put', async () => {
        const rule = makeRule('p', 'r1');
        await store.rules.insert(rule);
        expect(await store.rules.get('p.r1')).toStrictEqual(rule);

        const err = await rejection(store.rules.insert(makeRule('p', 'r1', { description: 'again' })));
        expect(err).toBeInstanceOf(ConflictError);
        expect(err).toMatchObject({ code: 'RULE_EXISTS' });
        expect(await store.rules.get('p.r1')).toStrictEqual(rule);

        const replaced = makeRule('p', 'r1', { enabled: false, description: 'replaced', trigger: { type: 'core.interval' } });
        await store.rules.put(replaced);
        expect(await store.rules.get('p.r1')).toStrictEqual(replaced);
        await store.rules.put(makeRule('p', 'r2'));
        expect(await store.rules.get('p.r2')).toStrictEqual(makeRule('p', 'r2'));
        expect(await store.rules.get('p.none')).toBeNull();
      });

      it('lists by each filter, ordered by ref', async () => {
        await store.rules.put(makeRule('p', 'c', { enabled: false }));
        await store.rules.put(makeRule('p', 'a', { source: 'pack' }));
        await store.rules.put(makeRule('q', 'b', { trigger: { type: 'core.interval' } }));
        await store.rules.put(makeRule('q', 'd', { source: 'pack', enabled: false, trigger: { type: 'core.interval' } }));

        const refs = async (filter?: Parameters<Store['rules']['list']>[0]) =>
          (await store.rules.list(filter)).map((r) => r.ref);
        expect(await refs()).toEqual(['p.a', 'p.c', 'q.b', 'q.d']);
        expect(await refs({})).toEqual(['p.a', 'p.c', 'q.b', 'q.d']);
        expect(await refs({ pack: 'q' })).toEqual(['q.b', 'q.d']);
        expect(await refs({ enabled: true })).toEqual(['p.a', 'q.b']);
        expect(await refs({ enabled: false })).toEqual(['p.c', 'q.d']);
        expect(await refs({ triggerType: 'core.interval' })).toEqual(['q.b', 'q.d']);
        expect(await refs({ source: 'pack' })).toEqual(['p.a', 'q.d']);
        expect(await refs({ source: 'api' })).toEqual(['p.c', 'q.b']);
        expect(await refs({ triggerType: 'core.interval', enabled: true })).toEqual(['q.b']);
        expect(await refs({ pack: 'p', source: 'pack', enabled: true, triggerType: 'core.webhook' })).toEqual(['p.a']);
        expect(await refs({ pack: 'none' })).toEqual([]);
      });

      it('deletes one, and deleteByPack removes only that source, minus kept refs', async () => {
        await store.rules.put(makeRule('p', 'api1'));
        await store.rules.put(makeRule('p', 'keep', { source: 'pack' }));
        await store.rules.put(makeRule('p', 'old1', { source: 'pack' }));
        await store.rules.put(makeRule('p', 'old2', { source: 'pack' }));
        await store.rules.put(makeRule('q', 'other', { source: 'pack' }));

        expect(await store.rules.delete('p.api1')).toBe(true);
        expect(await store.rules.delete('p.api1')).toBe(false);
        await store.rules.put(makeRule('p', 'api2'));

        expect(await store.rules.deleteByPack('p', 'pack', ['p.keep'])).toBe(2);
        expect((await store.rules.list()).map((r) => r.ref)).toEqual(['p.api2', 'p.keep', 'q.other']);
        expect(await store.rules.deleteByPack('p', 'pack')).toBe(1);
        expect((await store.rules.list()).map((r) => r.ref)).toEqual(['p.api2', 'q.other']);
      });
    });

    describe('events', () => {
      it('insert is idempotent by id: a second write changes nothing', async () => {
        const event = makeEvent('evt-1');
        await store.events.insert(event);
        await store.events.insert(event);
        await store.events.insert(makeEvent('evt-1', { payload: { changed: true } }));
        expect(await store.events.get('evt-1')).toStrictEqual(event);
        expect((await store.events.list({})).items).toStrictEqual([event]);
        expect(await store.events.get('evt-none')).toBeNull();
      });

      it('lists with type, since (inclusive) and until (exclusive) filters', async () => {
        const events = [
          makeEvent('e1', { occurredAt: at(1 * MINUTE) }),
          makeEvent('e2', { occurredAt: at(2 * MINUTE), type: 'core.interval' }),
          makeEvent('e3', { occurredAt: at(3 * MINUTE) }),
          makeEvent('e4', { occurredAt: at(4 * MINUTE), type: 'core.interval' }),
        ];
        for (const e of events) await store.events.insert(e);

        const ids = async (filter: Parameters<Store['events']['list']>[0]) =>
          (await store.events.list(filter)).items.map((e) => e.id);
        expect(await ids({})).toEqual(['e4', 'e3', 'e2', 'e1']);
        expect(await ids({ type: 'core.interval' })).toEqual(['e4', 'e2']);
        expect(await ids({ since: at(2 * MINUTE) })).toEqual(['e4', 'e3', 'e2']);
        expect(await ids({ until: at(3 * MINUTE) })).toEqual(['e2', 'e1']);
        expect(await ids({ since: at(2 * MINUTE), until: at(4 * MINUTE) })).toEqual(['e3', 'e2']);
        expect(await ids({ type: 'core.webhook', since: at(2 * MINUTE) })).toEqual(['e3']);
        // Another spelling of the same instant filters the same way.
        expect(await ids({ since: at(2 * MINUTE).replace(/\.\d+Z$/, 'Z').replace(/Z$/, '+00:00') })).toContain('e2');
        expect(await ids({ type: 'core.none' })).toEqual([]);
      });

      it('refuses a filter time that is not ISO-8601, naming the field', async () => {
        const err = await rejection(store.events.list({ since: 'yesterday' }));
        expect(err).toBeInstanceOf(ValidationError);
        expect(err).toMatchObject({ details: [{ field: 'since' }] });
      });

      it('pages through 120 events newest first: no duplicates, no gaps, ties broken by id', async () => {
        // 40 instants, 3 events each, ids shuffled against time so only the id breaks ties.
        const all: ReflexEvent[] = [];
        for (let i = 0; i < 120; i++) {
          const id = `evt-${String((i * 37) % 120).padStart(3, '0')}`;
          all.push(makeEvent(id, { occurredAt: at(Math.floor(i / 3) * 1000) }));
        }
        await store.record(all.map((event) => ({ event, enforcements: [], executions: [] })));

        const { items, sizes } = await collectPages((page) => store.events.list({}, page), 50);
        expect(sizes).toEqual([50, 50, 20]);
        expect(new Set(items.map((e) => e.id)).size).toBe(120);
        expect(items.map((e) => e.id)).toEqual(newestFirst(all, (e) => e.occurredAt).map((e) => e.id));
        expect(items).toStrictEqual(newestFirst(all, (e) => e.occurredAt));

        const filtered = await collectPages((page) => store.events.list({ since: at(20_000) }, page), 7);
        expect(filtered.items.map((e) => e.id)).toEqual(
          newestFirst(all, (e) => e.occurredAt)
            .filter((e) => Date.parse(e.occurredAt) >= T0 + 20_000)
            .map((e) => e.id),
        );
      });

      it('an exact page has no next cursor; the default limit is 50 and the most is 1000', async () => {
        const firings = Array.from({ length: 1005 }, (_, i) => ({
          event: makeEvent(`evt-${String(i).padStart(4, '0')}`, { occurredAt: at(i) }),
          enforcements: [],
          executions: [],
        }));
        await store.record(firings);

        const byDefault = await store.events.list({});
        expect(byDefault.items).toHaveLength(50);
        expect(byDefault.items[0]?.id).toBe('evt-1004');
        expect(byDefault.nextCursor).toBeDefined();

        const capped = await store.events.list({}, { limit: 5000 });
        expect(capped.items).toHaveLength(1000);
        expect(capped.nextCursor).toBeDefined();
        const rest = await store.events.list({}, { limit: 5000, ...(capped.nextCursor ? { cursor: capped.nextCursor } : {}) });
        expect(rest.items.map((e) => e.id)).toEqual(['evt-0004', 'evt-0003', 'evt-0002', 'evt-0001', 'evt-0000']);
        expect(rest.nextCursor).toBeUndefined();

        const exact = await store.events.list({ since: at(1000) }, { limit: 5 });
        expect(exact.items).toHaveLength(5);
        expect(exact.nextCursor).toBeUndefined();
      });

      it('refuses a malformed cursor with a ValidationError on field cursor', async () => {
        await store.events.insert(makeEvent('evt-1'));
        const bad = [
          'not a cursor!',
          'bm90LWpzb24', // "not-json"
          Buffer.from('[1,2]').toString('base64url'),
          Buffer.from('["not a time","x"]').toString('base64url'),
          Buffer.from('{"a":1}').toString('base64url'),
          '',
        ];
        for (const cursor of bad) {
          const err = await rejection(store.events.list({}, { cursor }));
          expect(err, `cursor ${JSON.stringify(cursor)}`).toBeInstanceOf(ValidationError);
          expect(err).toMatchObject({ details: [{ field: 'cursor' }] });
        }
        for (const list of [
          () => store.executions.list({}, { cursor: 'garbage' }),
          () => store.enforcements.list({}, { cursor: 'garbage' }),
        ]) {
          expect(await rejection(list())).toBeInstanceOf(ValidationError);
        }
      });
    });

    describe('enforcements', () => {
      it('are written by record(), listed by event (oldest first) and by rule (paged)', async () => {
        const firing = makeFiring('evt-1', ['p.b', 'p.a', 'p.c']);
        firing.enforcements[0] = { ...firing.enforcements[0]!, createdAt: at(3000) };
        const failed: Enforcement = {
          ...firing.enforcements[2]!,
          status: 'failed',
          error: { name: 'ValidationError', code: 'VALIDATION_FAILED', message: 'bad parameter' },
        };
        delete failed.executionId;
        firing.enforcements[2] = failed;
        await store.record([firing, makeFiring('evt-2', ['p.a'], at(5000))]);

        const byEvent = await store.enforcements.listByEvent('evt-1');
        const sorted = [...firing.enforcements].sort((a, b) =>
          a.createdAt === b.createdAt ? (a.id < b.id ? -1 : 1) : Date.parse(a.createdAt) - Date.parse(b.createdAt),
        );
        expect(byEvent).toStrictEqual(sorted);
        expect(byEvent.at(-1)?.rule).toBe('p.b');
        expect(await store.enforcements.get(failed.id)).toStrictEqual(failed);
        expect(await store.enforcements.get('enf-none')).toBeNull();
        expect(await store.enforcements.listByEvent('evt-none')).toEqual([]);

        const byRule = await collectPages((page) => store.enforcements.list({ rule: 'p.a' }, page), 1);
        expect(byRule.items.map((e) => e.eventId)).toEqual(['evt-2', 'evt-1']);
        expect(byRule.sizes).toEqual([1, 1]);
        expect((await store.enforcements.list({})).items).toHaveLength(4);
      });
    });

    describe('executions', () => {
      it('insert returns true once, then false and changes nothing', async () => {
        const execution = makeExecution('exe-1');
        expect(await store.executions.insert(execution)).toBe(true);
        expect(await store.executions.insert({ ...execution, status: 'failed' })).toBe(false);
        expect(await store.executions.get('exe-1')).toStrictEqual(execution);
        expect(await store.executions.get('exe-none')).toBeNull();
      });

      it('concurrent inserts of one id: exactly one reports inserted', async () => {
        const execution = makeExecution('exe-race');
        const results = await Promise.all(Array.from({ length: 10 }, () => store.executions.insert(execution)));
        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.executions.get('exe-race')).toStrictEqual(execution);
      });

      it('lists by action, status, rule and eventId, paged newest first', async () => {
        const all: Execution[] = [];
        for (let i = 0; i < 75; i++) {
          all.push(
            makeExecution(`exe-${String(i).padStart(3, '0')}`, {
              action: i % 3 === 0 ? 'core.local' : 'core.echo',
              status: i % 5 === 0 ? 'running' : 'requested',
              ...(i % 2 === 0 ? { rule: 'p.even', eventId: `evt-${i % 4}` } : {}),
              createdAt: at(Math.floor(i / 2) * 1000),
            }),
          );
        }
        for (const e of all) expect(await store.executions.insert(e)).toBe(true);
        const expected = (keep: (e: Execution) => boolean) =>
          newestFirst(all.filter(keep), (e) => e.createdAt).map((e) => e.id);
        const ids = async (filter: Parameters<Store['executions']['list']>[0]) =>
          (await collectPages((page) => store.executions.list(filter, page), 30)).items.map((e) => e.id);

        const everything = await collectPages((page) => store.executions.list({}, page), 30);
        expect(everything.sizes).toEqual([30, 30, 15]);
        expect(everything.items).toStrictEqual(newestFirst(all, (e) => e.createdAt));
        expect(await ids({ action: 'core.local' })).toEqual(expected((e) => e.action === 'core.local'));
        expect(await ids({ status: 'running' })).toEqual(expected((e) => e.status === 'running'));
        expect(await ids({ rule: 'p.even' })).toEqual(expected((e) => e.rule === 'p.even'));
        expect(await ids({ eventId: 'evt-2' })).toEqual(expected((e) => e.eventId === 'evt-2'));
        expect(await ids({ action: 'core.local', status: 'running', rule: 'p.even' })).toEqual(
          expected((e) => e.action === 'core.local' && e.status === 'running' && e.rule === 'p.even'),
        );
        expect(await ids({ status: 'succeeded' })).toEqual([]);
      });

      it('transitions requested → running → succeeded, applying the patch and updatedAt', async () => {
        const execution = makeExecution('exe-1');
        await store.executions.insert(execution);

        const startedAt = new Date().toISOString();
        const running = await store.executions.transition('exe-1', 'running', { startedAt, host: 'worker-1', attempt: 2 });
        expect(running).toStrictEqual({
          ...execution,
          status: 'running',
          startedAt,
          host: 'worker-1',
          attempt: 2,
          updatedAt: running.updatedAt,
          history: [...execution.history, { status: 'running', at: running.updatedAt, attempt: 2 }],
        });
        expect(running.updatedAt).not.toBe(execution.updatedAt);
        expect(Date.parse(running.updatedAt)).toBeGreaterThan(Date.parse(execution.updatedAt));
        expect(await store.executions.get('exe-1')).toStrictEqual(running);

        const result = { rows: [{ a: 1, b: [true, null, 'x'] }], nested: { deep: { er: 'ü' } }, empty: {} };
        const finishedAt = new Date().toISOString();
        const done = await store.executions.transition('exe-1', 'succeeded', { result, finishedAt }, ['running']);
        expect(done).toStrictEqual({
          ...running,
          status: 'succeeded',
          result,
          finishedAt,
          updatedAt: done.updatedAt,
          history: [...running.history, { status: 'succeeded', at: done.updatedAt }],
        });
        expect(await store.executions.get('exe-1')).toStrictEqual(done);
        expect((await store.executions.list({ status: 'succeeded' })).items).toStrictEqual([done]);
        expect((await store.executions.list({ status: 'running' })).items).toEqual([]);
      });

      it('stores a failure with its error and a scalar result', async () => {
        await store.executions.insert(makeExecution('exe-1', { status: 'running' }));
        const error = { name: 'NonRetriableError', code: 'NON_RETRIABLE', message: 'exit 2' };
        const failed = await store.executions.transition('exe-1', 'failed', { error, result: 'partial output' });
        expect(failed.error).toStrictEqual(error);
        expect(failed.result).toBe('partial output');
        const nulled = makeExecution('exe-2', { status: 'running' });
        await store.executions.insert(nulled);
        expect((await store.executions.transition('exe-2', 'succeeded', { result: null })).result).toBeNull();
      });

      it('refuses an illegal transition with ILLEGAL_TRANSITION naming the status, and changes nothing', async () => {
        await store.executions.insert(makeExecution('exe-1', { status: 'succeeded' }));
        const before = await store.executions.get('exe-1');

        const err = await rejection(store.executions.transition('exe-1', 'running', { host: 'h' }));
        expect(err).toBeInstanceOf(ConflictError);
        expect(err).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
        expect((err as Error).message).toContain('succeeded');

        // `from` cannot widen the state machine: succeeded → running stays illegal.
        const widened = await rejection(store.executions.transition('exe-1', 'running', {}, ['succeeded']));
        expect(widened).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
        expect(await store.executions.get('exe-1')).toStrictEqual(before);

        // A legal move from a status the caller did not expect is refused too.
        await store.executions.insert(makeExecution('exe-2'));
        const unexpected = await rejection(store.executions.transition('exe-2', 'running', {}, ['scheduled']));
        expect(unexpected).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
        expect((unexpected as Error).message).toContain('requested');
        expect((await store.executions.get('exe-2'))?.status).toBe('requested');

        const unknown = await rejection(store.executions.transition('exe-2', 'exploded' as ExecutionStatus));
        expect(unknown).toBeInstanceOf(ValidationError);
        expect((await store.executions.get('exe-2'))?.status).toBe('requested');
      });

      it('concurrent transitions of one execution: exactly one wins', async () => {
        await store.executions.insert(makeExecution('exe-1'));
        const settled = await Promise.allSettled(
          Array.from({ length: 10 }, (_, i) => store.executions.transition('exe-1', 'running', { host: `worker-${i}` })),
        );
        const won = settled.filter((s) => s.status === 'fulfilled');
        const lost = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
        expect(won).toHaveLength(1);
        expect(lost).toHaveLength(9);
        for (const l of lost) {
          expect(l.reason).toBeInstanceOf(ConflictError);
          expect(l.reason).toMatchObject({ code: 'ILLEGAL_TRANSITION' });
        }
        const winner = won[0]?.status === 'fulfilled' ? won[0].value : undefined;
        expect(await store.executions.get('exe-1')).toStrictEqual(winner);
        // Only the winner's step is in the history.
        expect(winner?.history.map((h) => h.status)).toEqual(['requested', 'running']);
      });

      it('transition of an absent execution is a NotFoundError', async () => {
        const err = await rejection(store.executions.transition('exe-none', 'running'));
        expect(err).toBeInstanceOf(NotFoundError);
        expect(err).toMatchObject({ code: 'NOT_FOUND' });
        const err2 = await rejection(store.executions.transition('exe-none', 'running', {}, ['succeeded']));
        expect(err2).toBeInstanceOf(NotFoundError);
      });

      it('delete removes one execution', async () => {
        await store.executions.insert(makeExecution('exe-1'));
        expect(await store.executions.delete('exe-1')).toBe(true);
        expect(await store.executions.delete('exe-1')).toBe(false);
        expect(await store.executions.get('exe-1')).toBeNull();
      });
    });

    describe('record()', () => {
      it('is idempotent: the same batch twice gives the same records and counts', async () => {
        const batch = [makeFiring('evt-1', ['p.a', 'p.b']), makeFiring('evt-2', ['p.a'], at(1000)), makeFiring('evt-3', [])];
        const counts = async () => ({
          events: (await store.events.list({})).items.length,
          enforcements: (await store.enforcements.list({})).items.length,
          executions: (await store.executions.list({})).items.length,
        });
        await store.record(batch);
        const first = await counts();
        expect(first).toEqual({ events: 3, enforcements: 3, executions: 3 });

        // Progress made after the first write survives a redelivered firing.
        const executionId = batch[0]!.executions[0]!.id;
        const running = await store.executions.transition(executionId, 'running');
        await store.record(batch);
        await store.record([batch[1]!, batch[1]!]);
        expect(await counts()).toEqual(first);
        expect(await store.executions.get(executionId)).toStrictEqual(running);
        expect(await store.events.get('evt-2')).toStrictEqual(batch[1]!.event);
        expect(await store.enforcements.listByEvent('evt-1')).toHaveLength(2);
        expect((await store.executions.list({ eventId: 'evt-1' })).items).toHaveLength(2);
        await store.record([]);
      });

      it('writes nothing of a batch that holds an invalid time', async () => {
        const bad = makeFiring('evt-bad', ['p.a']);
        bad.executions[0] = { ...bad.executions[0]!, createdAt: 'not a time' };
        const err = await rejection(store.record([makeFiring('evt-ok', ['p.a']), bad]));
        expect(err).toBeInstanceOf(ValidationError);
        expect(await store.events.get('evt-ok')).toBeNull();
        expect(await store.events.get('evt-bad')).toBeNull();
      });
    });

    describe('retention', () => {
      it('purgeExpired removes only what is past retention', async () => {
        const now = Date.now();
        const firings = [makeFiring('evt-1', ['p.a']), makeFiring('evt-2', ['p.b'], at(HOUR))];
        await store.record(firings);
        for (const firing of firings) {
          await store.outputs.append(firing.executions[0]!.id, [outputChunk(1), outputChunk(2)]);
        }
        await store.packs.upsert(makePack('p'));
        await store.rules.put(makeRule('p', 'a'));

        const none = { events: 0, executions: 0, enforcements: 0, outputs: 0 };
        expect(await store.purgeExpired()).toEqual(none);
        expect(await store.purgeExpired(new Date(now))).toEqual(none);

        // Past the first event's retention, not the second's: only evt-1 goes.
        const betweenEvents = new Date(T0 + DEFAULT_RETENTION.eventsMs + 30 * MINUTE);
        expect(await store.purgeExpired(betweenEvents)).toEqual({ ...none, events: 1 });
        expect(await store.events.get('evt-1')).toBeNull();
        expect(await store.events.get('evt-2')).not.toBeNull();

        // Past every event's retention: events go, executions, enforcements and output stay.
        expect(await store.purgeExpired(new Date(now + DEFAULT_RETENTION.eventsMs + HOUR))).toEqual({ ...none, events: 1 });
        expect((await store.executions.list({})).items).toHaveLength(2);
        expect(await store.outputs.list(firings[0]!.executions[0]!.id)).toHaveLength(2);

        // Past the executions' retention: they, their enforcements and output go; configuration stays.
        expect(await store.purgeExpired(new Date(now + DEFAULT_RETENTION.executionsMs + HOUR))).toEqual({
          events: 0,
          executions: 2,
          enforcements: 2,
          outputs: 4,
        });
        expect((await store.executions.list({})).items).toEqual([]);
        expect((await store.enforcements.list({})).items).toEqual([]);
        expect(await store.outputs.list(firings[1]!.executions[0]!.id)).toEqual([]);
        expect(await store.packs.get('p')).not.toBeNull();
        expect(await store.rules.get('p.a')).not.toBeNull();
      });
    });

    describe('round trip', () => {
      it('gives values back deep-equal: nested JSON, unicode, odd keys, absent optional fields absent', async () => {
        const payload = {
          text: 'Grüße, 世界! 🚀 עברית e\u0301 \u0000 "quoted" \\ back',
          numbers: [0, -1, 1.5, 1e21, 2 ** 53 - 1, -2147483649, 0.1],
          flags: [true, false, null],
          nested: { a: { b: { c: { d: [[], {}, [{}], ''] } } } },
          'dotted.key': 1,
          $dollar: { $ref: '#/x' },
          'emoji🔑': '🗝️',
          empty: {},
        };
        const event: ReflexEvent = { ...makeEvent(`evt-${randomUUID()}`), payload, triggerParameters: { url: 'a/b' } };
        const bare = makeEvent('evt-bare');
        await store.events.insert(event);
        await store.events.insert(bare);
        expect(await store.events.get(event.id)).toStrictEqual(event);
        const gotBare = await store.events.get('evt-bare');
        expect(gotBare).toStrictEqual(bare);
        expect(Object.keys(gotBare ?? {}).sort()).toEqual(Object.keys(bare).sort());

        const arrayPayload = makeEvent('evt-array', { payload: [1, 'two', { three: 3 }] });
        const scalarPayload = makeEvent('evt-scalar', { payload: 'just a string' });
        const nullPayload = makeEvent('evt-null', { payload: null });
        for (const e of [arrayPayload, scalarPayload, nullPayload]) {
          await store.events.insert(e);
          expect(await store.events.get(e.id)).toStrictEqual(e);
        }

        const execution = makeExecution('exe-bare');
        await store.executions.insert(execution);
        const gotExecution = await store.executions.get('exe-bare');
        expect(gotExecution).toStrictEqual(execution);
        for (const absent of ['result', 'error', 'rule', 'eventId', 'enforcementId', 'host', 'startedAt', 'finishedAt']) {
          expect(gotExecution).not.toHaveProperty(absent);
        }
        const withUndefined = { ...makeExecution('exe-undef'), host: undefined, rule: undefined };
        await store.executions.insert(withUndefined);
        const gotUndefined = await store.executions.get('exe-undef');
        expect(gotUndefined).not.toHaveProperty('host');
        expect(gotUndefined).not.toHaveProperty('rule');

        const action = makeAction('p', 'schema', {
          description: 'Ünïcödé ✓',
          entryPoint: 'actions/run.ts',
          parametersSchema: {
            $schema: 'https://json-schema.org/draft/2020-12/schema',
            type: 'object',
            properties: { target: { $ref: '#/$defs/host' } },
            $defs: { host: { type: 'string', pattern: '^[a-z.]+$' } },
            required: ['target'],
          },
        });
        await store.actions.upsert(action);
        expect(await store.actions.get('p.schema')).toStrictEqual(action);
        const bareAction = makeAction('p', 'bare');
        await store.actions.upsert(bareAction);
        expect(await store.actions.get('p.bare')).toStrictEqual(bareAction);

        const trigger = makeTriggerType('p', 't', { payloadSchema: { type: 'object', properties: { 'a.b': { $ref: '#' } } } });
        await store.triggerTypes.upsert(trigger);
        expect(await store.triggerTypes.get('p.t')).toStrictEqual(trigger);

        const rule = makeRule('p', 'criteria', {
          criteria: { and: [{ '==': [{ var: 'payload.level' }, 'critical'] }, { in: ['db', { var: 'payload.tags' }] }] },
          description: 'pages the on-call 📟',
        });
        await store.rules.insert(rule);
        expect(await store.rules.get('p.criteria')).toStrictEqual(rule);
        const bareRule = makeRule('p', 'bare');
        await store.rules.insert(bareRule);
        const gotRule = await store.rules.get('p.bare');
        expect(gotRule).toStrictEqual(bareRule);
        expect(gotRule).not.toHaveProperty('criteria');
        expect(gotRule).not.toHaveProperty('description');
      });
    });

    runLifecycleConformance(() => store);
    runAuthConformance(() => store);
    runKeysConformance(() => store);
    runNoiseConformance(() => store);
  });
}
