/**
 * The record batcher: firings that arrive together are written in one store call, each caller
 * learns only once its own record is stored, and one refused record fails only its own caller.
 */
import { describe, expect, it } from 'vitest';
import type { FiringRecord } from '@reflex/store';
import { RecordBatcher } from './record-batcher.ts';

function firing(id: string): FiringRecord {
  return {
    event: { id, type: 'core.webhook', source: 'test', payload: {}, occurredAt: '2024-05-01T12:00:00.000Z', traceId: 't' },
    enforcements: [],
    executions: [],
  };
}

/** A store whose record() the test settles by hand. */
function manualStore(refuse: (id: string) => boolean = () => false) {
  const calls: string[][] = [];
  const releases: Array<() => void> = [];
  return {
    calls,
    release: () => releases.shift()?.(),
    store: {
      record: (batch: FiringRecord[]) => {
        const ids = batch.map((f) => f.event.id);
        calls.push(ids);
        return new Promise<void>((resolve, reject) => {
          releases.push(() => (ids.some(refuse) ? reject(new Error(`refused ${ids.join(',')}`)) : resolve()));
        });
      },
    },
  };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('RecordBatcher', () => {
  it('writes the firings queued together in one call, and resolves each only after it', async () => {
    const m = manualStore();
    const batcher = new RecordBatcher(m.store);
    const settled: string[] = [];
    const writes = ['a', 'b', 'c'].map((id) => batcher.write(firing(id)).then(() => settled.push(id)));
    await tick();
    expect(m.calls).toEqual([['a', 'b', 'c']]);
    expect(settled).toEqual([]);
    m.release();
    await Promise.all(writes);
    expect(settled).toEqual(['a', 'b', 'c']);
  });

  it('never runs two writes at once: what arrives meanwhile goes in the next batch', async () => {
    const m = manualStore();
    const batcher = new RecordBatcher(m.store);
    const first = batcher.write(firing('a'));
    await tick();
    const later = [batcher.write(firing('b')), batcher.write(firing('c'))];
    await tick();
    expect(m.calls).toEqual([['a']]);
    m.release();
    await first;
    await tick();
    await tick();
    expect(m.calls).toEqual([['a'], ['b', 'c']]);
    m.release();
    await Promise.all(later);
  });

  it('caps a batch at maxBatch', async () => {
    const m = manualStore();
    const batcher = new RecordBatcher(m.store, { maxBatch: 2 });
    const writes = ['a', 'b', 'c'].map((id) => batcher.write(firing(id)));
    await tick();
    m.release();
    await tick();
    await tick();
    m.release();
    await Promise.all(writes);
    expect(m.calls).toEqual([['a', 'b'], ['c']]);
  });

  it('when a batch fails, retries record by record so only the refused one fails', async () => {
    const calls: string[][] = [];
    const batcher = new RecordBatcher({
      record: async (batch) => {
        const ids = batch.map((f) => f.event.id);
        calls.push(ids);
        if (ids.includes('bad')) throw new Error('refused');
      },
    });
    const results = await Promise.allSettled(['a', 'bad', 'c'].map((id) => batcher.write(firing(id))));
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(calls).toEqual([['a', 'bad', 'c'], ['a'], ['bad'], ['c']]);
  });
});
