/**
 * The Store contract for the execution lifecycle (issue 4): history appended by transitions,
 * live output chunks, and concurrency slots with their FIFO queue. Runs inside the main suite's
 * describe, on its fresh store per test.
 *
 * Slot tests use short time-to-live values and wait past them; the margins (a TTL of 400 ms,
 * waits of 600 ms) keep them steady on a slow machine.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError, type Execution } from '@reflex/model';
import { DEFAULT_RETENTION, MAX_OUTPUT_LIMIT, type OutputChunk, type Store } from '../src/index.ts';
import { HOUR, MINUTE, T0, at, makeExecution, outputChunk, rejection, sleep } from './fixtures.ts';

/** Long enough never to expire while a test runs. */
const LONG = 60_000;
const SHORT = 400;
const PAST_SHORT = 600;

export function runLifecycleConformance(storeOf: () => Store): void {
  describe('execution history', () => {
    it('every transition appends its status, updatedAt, attempt and reason; reason never lands on the record', async () => {
      const store = storeOf();
      const execution = makeExecution('exe-1');
      await store.executions.insert(execution);

      const delayed = await store.executions.transition('exe-1', 'delayed', {
        waitKey: 'core.local:host-a',
        reason: 'waiting for a concurrency slot',
      });
      const running = await store.executions.transition('exe-1', 'running', { attempt: 1, startedAt: new Date().toISOString() });
      const error = { name: 'Error', code: 'EXIT_1', message: 'exit 1' };
      const retrying = await store.executions.transition('exe-1', 'delayed', { error, reason: 'retry after failed' }, ['running']);
      const again = await store.executions.transition('exe-1', 'running', { attempt: 2 });
      const done = await store.executions.transition('exe-1', 'succeeded', { result: 'ok', finishedAt: new Date().toISOString() });

      expect(done.history).toStrictEqual([
        { status: 'requested', at: execution.createdAt, attempt: 0 },
        { status: 'delayed', at: delayed.updatedAt, reason: 'waiting for a concurrency slot' },
        { status: 'running', at: running.updatedAt, attempt: 1 },
        { status: 'delayed', at: retrying.updatedAt, reason: 'retry after failed' },
        { status: 'running', at: again.updatedAt, attempt: 2 },
        { status: 'succeeded', at: done.updatedAt },
      ]);
      // Each step returns the history so far, and times never run backwards.
      expect(delayed.history).toHaveLength(2);
      expect(retrying.history).toHaveLength(4);
      const times = done.history.map((h) => Date.parse(h.at));
      expect(times).toEqual([...times].sort((a, b) => a - b));

      expect(delayed.waitKey).toBe('core.local:host-a');
      expect(retrying.error).toStrictEqual(error);
      expect(done.attempt).toBe(2);
      for (const step of [delayed, running, retrying, again, done]) expect(step).not.toHaveProperty('reason');
      const stored = await store.executions.get('exe-1');
      expect(stored).toStrictEqual(done);
      expect(stored).not.toHaveProperty('reason');
      expect(stored?.waitKey).toBe('core.local:host-a');
    });

    it('a refused transition appends nothing', async () => {
      const store = storeOf();
      await store.executions.insert(makeExecution('exe-1'));
      const done = await store.executions.transition('exe-1', 'canceled', { reason: 'canceled by a user' });
      const err = await rejection(store.executions.transition('exe-1', 'running', { reason: 'too late' }));
      expect(err).toBeInstanceOf(ConflictError);
      expect(await store.executions.get('exe-1')).toStrictEqual(done);
      expect(done.history.map((h) => h.status)).toEqual(['requested', 'canceled']);
    });

    it('starts a history on a record stored without one', async () => {
      const store = storeOf();
      const legacy: Partial<Execution> = makeExecution('exe-old');
      delete legacy.history;
      await store.executions.insert(legacy as Execution);
      const running = await store.executions.transition('exe-old', 'running', { attempt: 1 });
      expect(running.history).toStrictEqual([{ status: 'running', at: running.updatedAt, attempt: 1 }]);
    });

    it('keeps waitKey and rerunOf given at insert', async () => {
      const store = storeOf();
      const execution = makeExecution('exe-2', { rerunOf: 'exe-1', waitKey: 'k' });
      await store.executions.insert(execution);
      expect(await store.executions.get('exe-2')).toStrictEqual(execution);
      expect(await store.executions.get('exe-2')).not.toHaveProperty('reason');
    });
  });

  describe('outputs', () => {
    const texts = (chunks: OutputChunk[]): string[] => chunks.map((c) => c.text);
    const seqs = (chunks: OutputChunk[]): number[] => chunks.map((c) => c.seq);

    it('appends and lists ascending after a seq, with a limit, per execution', async () => {
      const store = storeOf();
      await store.executions.insert(makeExecution('exe-1'));
      const first = [outputChunk(1), outputChunk(2), outputChunk(3, { stream: 'stderr' })];
      await store.outputs.append('exe-1', first);
      await store.outputs.append('exe-1', [outputChunk(5), outputChunk(4)]);
      await store.outputs.append('exe-2', [outputChunk(1, { text: 'other' })]);

      expect(await store.outputs.list('exe-1')).toStrictEqual([...first, outputChunk(4), outputChunk(5)]);
      expect(seqs(await store.outputs.list('exe-1', 2))).toEqual([3, 4, 5]);
      expect(seqs(await store.outputs.list('exe-1', 2, 2))).toEqual([3, 4]);
      expect(await store.outputs.list('exe-1', 5)).toEqual([]);
      expect(await store.outputs.list('exe-2')).toStrictEqual([outputChunk(1, { text: 'other' })]);
      expect(await store.outputs.list('exe-none')).toEqual([]);
      await store.outputs.append('exe-1', []);
      expect(await store.outputs.list('exe-1')).toHaveLength(5);
      expect(await store.outputs.lastSeq('exe-1')).toBe(5);
      expect(await store.outputs.lastSeq('exe-none')).toBe(0);
    });

    it('append is idempotent per (executionId, seq): what is stored stays', async () => {
      const store = storeOf();
      await store.outputs.append('exe-1', [outputChunk(1, { text: 'a' }), outputChunk(2, { text: 'b' })]);
      await store.outputs.append('exe-1', [outputChunk(2, { text: 'changed' }), outputChunk(3, { text: 'c' })]);
      await store.outputs.append('exe-1', [outputChunk(4, { text: 'd' }), outputChunk(4, { text: 'twice in one call' })]);
      await Promise.all(Array.from({ length: 5 }, () => store.outputs.append('exe-1', [outputChunk(1), outputChunk(5, { text: 'e' })])));
      expect(texts(await store.outputs.list('exe-1'))).toEqual(['a', 'b', 'c', 'd', 'e']);
    });

    it('gives text back as it went in', async () => {
      const store = storeOf();
      const odd = ['', ' ', 'tab\there', 'Grüße 世界 🚀', '\u0000nul', '\u001b[31mred\u001b[0m', 'x'.repeat(100_000), '"quoted" \\ back'];
      await store.outputs.append('exe-1', odd.map((text, i) => outputChunk(i + 1, { text })));
      expect(texts(await store.outputs.list('exe-1'))).toEqual(odd);
    });

    it('lists 1000 by default and at most 10 000', async () => {
      const store = storeOf();
      const total = MAX_OUTPUT_LIMIT + 5;
      await store.outputs.append('exe-1', Array.from({ length: total }, (_, i) => outputChunk(i + 1)));

      const byDefault = await store.outputs.list('exe-1');
      expect(byDefault).toHaveLength(1000);
      expect(byDefault.at(-1)?.seq).toBe(1000);
      expect(await store.outputs.list('exe-1', 0, 50_000)).toHaveLength(MAX_OUTPUT_LIMIT);
      expect(seqs(await store.outputs.list('exe-1', MAX_OUTPUT_LIMIT, 50_000))).toEqual([10_001, 10_002, 10_003, 10_004, 10_005]);

      // Reading on from the last seq seen walks everything once, in order.
      const walked: number[] = [];
      for (let after = 0, guard = 0; guard < 100; guard++) {
        const page = await store.outputs.list('exe-1', after, 3000);
        if (page.length === 0) break;
        walked.push(...seqs(page));
        after = page.at(-1)?.seq ?? after;
      }
      expect(walked).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    });

    it('refuses a bad chunk, naming it, and writes none of the call', async () => {
      const store = storeOf();
      const bad: [Partial<OutputChunk>, string][] = [
        [{ seq: 0 }, 'chunks[1].seq'],
        [{ seq: 2.5 }, 'chunks[1].seq'],
        [{ stream: 'stdin' as OutputChunk['stream'] }, 'chunks[1].stream'],
        [{ at: 'yesterday' }, 'chunks[1].at'],
      ];
      for (const [override, field] of bad) {
        const err = await rejection(store.outputs.append('exe-1', [outputChunk(1), { ...outputChunk(2), ...override }]));
        expect(err, field).toBeInstanceOf(ValidationError);
        expect(err).toMatchObject({ details: [{ field }] });
      }
      expect(await store.outputs.list('exe-1')).toEqual([]);
    });

    it("expires with its execution, counted from the execution's createdAt", async () => {
      const store = storeOf();
      await store.executions.insert(makeExecution('exe-1', { createdAt: at(0) }));
      // Produced an hour after the execution was created: still gone with it.
      await store.outputs.append('exe-1', [outputChunk(1, { at: at(HOUR) }), outputChunk(2, { at: at(HOUR) })]);
      // No execution stored: counted from the chunk's own time.
      await store.outputs.append('exe-orphan', [outputChunk(1, { at: at(2 * HOUR) })]);

      const justPast = new Date(T0 + DEFAULT_RETENTION.executionsMs + 30 * MINUTE);
      expect(await store.purgeExpired(justPast)).toEqual({ events: 0, executions: 1, enforcements: 0, outputs: 2 });
      expect(await store.outputs.list('exe-1')).toEqual([]);
      expect(await store.outputs.list('exe-orphan')).toHaveLength(1);
      expect(await store.purgeExpired(new Date(T0 + DEFAULT_RETENTION.executionsMs + 2 * HOUR))).toMatchObject({ outputs: 1 });
      expect(await store.outputs.list('exe-orphan')).toEqual([]);
    });

    it("goes when its execution is deleted", async () => {
      const store = storeOf();
      await store.executions.insert(makeExecution('exe-1'));
      await store.outputs.append('exe-1', [outputChunk(1)]);
      expect(await store.executions.delete('exe-1')).toBe(true);
      expect(await store.outputs.list('exe-1')).toEqual([]);
    });
  });

  describe('slots', () => {
    it('20 concurrent acquires of a limit of 3: three hold, the rest take turns in enqueuedAt order', async () => {
      const store = storeOf();
      const holders = Array.from({ length: 20 }, (_, i) => `exe-${String(i).padStart(2, '0')}`);
      // enqueuedAt runs against the holder ids so the order cannot come from the ids.
      const enqueuedAt = (holder: string): string => at((100 - Number(holder.slice(4))) * 1000);
      const poll = async (waiting: string[]): Promise<string[]> => {
        const won = await Promise.all(waiting.map((h) => store.slots.acquire('k', h, 3, LONG, enqueuedAt(h))));
        return waiting.filter((_, i) => won[i] === true);
      };

      let waiting = [...holders];
      const first = await poll(waiting);
      expect(first).toHaveLength(3);
      expect([...(await store.slots.holders('k'))].sort()).toEqual(first);
      waiting = waiting.filter((h) => !first.includes(h));

      // The rest, earliest enqueuedAt first: exe-19, exe-18, ...
      const expected = [...waiting].sort((a, b) => Date.parse(enqueuedAt(a)) - Date.parse(enqueuedAt(b)));
      const served: string[] = [];
      let current = first;
      while (waiting.length > 0) {
        for (const h of current) await store.slots.release('k', h);
        current = await poll(waiting);
        const held = await store.slots.holders('k');
        expect(held.length).toBeLessThanOrEqual(3);
        expect([...held].sort()).toEqual([...current].sort());
        expect(current.length).toBe(Math.min(3, waiting.length));
        served.push(...[...current].sort((a, b) => Date.parse(enqueuedAt(a)) - Date.parse(enqueuedAt(b))));
        waiting = waiting.filter((h) => !current.includes(h));
      }
      expect(served).toEqual(expected);
    });

    it('limit 1: each release goes to the next waiter in enqueuedAt order, whatever order they asked in', async () => {
      const store = storeOf();
      const acquire = (holder: string, enqueuedAtMs: number): Promise<boolean> =>
        store.slots.acquire('k', holder, 1, LONG, at(enqueuedAtMs));
      expect(await acquire('first', 0)).toBe(true);
      // They ask in the order t3, t1, t2.
      expect(await acquire('t3', 3000)).toBe(false);
      expect(await acquire('t1', 1000)).toBe(false);
      expect(await acquire('t2', 2000)).toBe(false);

      await store.slots.release('k', 'first');
      // The slot is free, but only the head of the queue may take it.
      expect(await acquire('t3', 3000)).toBe(false);
      expect(await acquire('t2', 2000)).toBe(false);
      expect(await acquire('late', 9000)).toBe(false);
      expect(await acquire('t1', 1000)).toBe(true);
      expect(await store.slots.holders('k')).toEqual(['t1']);

      await store.slots.release('k', 't1');
      expect(await acquire('t3', 3000)).toBe(false);
      expect(await acquire('late', 9000)).toBe(false);
      expect(await acquire('t2', 2000)).toBe(true);

      // Ordered by enqueuedAt, not by arrival: one requested earlier goes ahead of t3; ties go by holder id.
      expect(await acquire('early-b', 500)).toBe(false);
      expect(await acquire('early-a', 500)).toBe(false);
      await store.slots.release('k', 't2');
      expect(await acquire('t3', 3000)).toBe(false);
      expect(await acquire('early-b', 500)).toBe(false);
      expect(await acquire('early-a', 500)).toBe(true);
      await store.slots.release('k', 'early-a');
      expect(await acquire('t3', 3000)).toBe(false);
      expect(await acquire('early-b', 500)).toBe(true);
      await store.slots.release('k', 'early-b');
      expect(await acquire('late', 9000)).toBe(false);
      expect(await acquire('t3', 3000)).toBe(true);
      await store.slots.release('k', 't3');
      expect(await acquire('late', 9000)).toBe(true);
      expect(await store.slots.holders('k')).toEqual(['late']);
    });

    it('a holder asking again keeps its one slot', async () => {
      const store = storeOf();
      expect(await store.slots.acquire('k', 'h1', 2, LONG, at(0))).toBe(true);
      expect(await store.slots.acquire('k', 'h1', 2, LONG, at(0))).toBe(true);
      expect(await store.slots.holders('k')).toEqual(['h1']);
      expect(await store.slots.acquire('k', 'h2', 2, LONG, at(1000))).toBe(true);
      expect(await store.slots.acquire('k', 'h3', 2, LONG, at(2000))).toBe(false);
      expect(await store.slots.acquire('k', 'h1', 2, LONG, at(0))).toBe(true);
      expect([...(await store.slots.holders('k'))].sort()).toEqual(['h1', 'h2']);
    });

    it('an expired slot is freed for the next in line; its old holder can no longer renew it', async () => {
      const store = storeOf();
      expect(await store.slots.acquire('k', 'h1', 1, SHORT, at(0))).toBe(true);
      expect(await store.slots.acquire('k', 'h2', 1, LONG, at(1000))).toBe(false);
      await sleep(PAST_SHORT);
      expect(await store.slots.holders('k')).toEqual([]);
      expect(await store.slots.acquire('k', 'h2', 1, LONG, at(1000))).toBe(true);
      expect(await store.slots.renew('k', 'h1', LONG)).toBe(false);
      expect(await store.slots.holders('k')).toEqual(['h2']);
      // Asking again, the old holder waits like anyone else: the slot is h2's now.
      expect(await store.slots.acquire('k', 'h1', 1, LONG, at(0))).toBe(false);
    });

    it('a waiter that stops asking drops out of the queue', async () => {
      const store = storeOf();
      expect(await store.slots.acquire('k', 'h0', 1, LONG, at(0))).toBe(true);
      expect(await store.slots.acquire('k', 'gone', 1, SHORT, at(1000))).toBe(false);
      expect(await store.slots.acquire('k', 'h2', 1, LONG, at(2000))).toBe(false);
      await store.slots.release('k', 'h0');
      // `gone` is still within its time to live: it is ahead, so h2 waits.
      expect(await store.slots.acquire('k', 'h2', 1, LONG, at(2000))).toBe(false);
      await sleep(PAST_SHORT);
      expect(await store.slots.acquire('k', 'h2', 1, LONG, at(2000))).toBe(true);
    });

    it('renew extends a held slot; renewing what one does not hold is false', async () => {
      const store = storeOf();
      expect(await store.slots.acquire('k', 'h1', 1, SHORT, at(0))).toBe(true);
      expect(await store.slots.renew('k', 'h1', LONG)).toBe(true);
      await sleep(PAST_SHORT);
      expect(await store.slots.holders('k')).toEqual(['h1']);
      expect(await store.slots.acquire('k', 'h2', 1, LONG, at(1000))).toBe(false);
      expect(await store.slots.renew('k', 'h2', LONG)).toBe(false);
      expect(await store.slots.renew('k-none', 'h1', LONG)).toBe(false);
    });

    it('release frees the slot and leaves the queue; releasing what one does not hold is a no-op', async () => {
      const store = storeOf();
      expect(await store.slots.acquire('k', 'h1', 1, LONG, at(0))).toBe(true);
      expect(await store.slots.acquire('k', 'h2', 1, LONG, at(1000))).toBe(false);
      expect(await store.slots.acquire('k', 'h3', 1, LONG, at(2000))).toBe(false);

      await store.slots.release('k', 'nobody');
      await store.slots.release('k-none', 'h1');
      expect(await store.slots.holders('k')).toEqual(['h1']);

      await store.slots.release('k', 'h2'); // a waiter leaves the line
      await store.slots.release('k', 'h1');
      expect(await store.slots.holders('k')).toEqual([]);
      expect(await store.slots.acquire('k', 'h3', 1, LONG, at(2000))).toBe(true);
      await store.slots.release('k', 'h1');
      expect(await store.slots.holders('k')).toEqual(['h3']);
    });

    it('keys are independent', async () => {
      const store = storeOf();
      expect(await store.slots.acquire('core.local:a', 'h1', 1, LONG, at(0))).toBe(true);
      expect(await store.slots.acquire('core.local:b', 'h2', 1, LONG, at(1000))).toBe(true);
      expect(await store.slots.acquire('core.local:a', 'h3', 1, LONG, at(500))).toBe(false);
      expect(await store.slots.holders('core.local:a')).toEqual(['h1']);
      expect(await store.slots.holders('core.local:b')).toEqual(['h2']);
      expect(await store.slots.holders('core.local:none')).toEqual([]);
    });

    it('refuses bad arguments, naming them', async () => {
      const store = storeOf();
      const cases: [Promise<unknown>, string][] = [
        [store.slots.acquire('k', 'h', 0, LONG, at(0)), 'limit'],
        [store.slots.acquire('k', 'h', 1.5, LONG, at(0)), 'limit'],
        [store.slots.acquire('k', 'h', 1, 0, at(0)), 'ttlMs'],
        [store.slots.acquire('k', 'h', 1, LONG, 'soon'), 'enqueuedAt'],
        [store.slots.acquire('', 'h', 1, LONG, at(0)), 'key'],
        [store.slots.acquire('k', '', 1, LONG, at(0)), 'holder'],
        [store.slots.renew('k', 'h', -1), 'ttlMs'],
      ];
      for (const [call, field] of cases) {
        const err = await rejection(call);
        expect(err, field).toBeInstanceOf(ValidationError);
        expect(err).toMatchObject({ details: [{ field }] });
      }
      expect(await store.slots.holders('k')).toEqual([]);
    });
  });
}
