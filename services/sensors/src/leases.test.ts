/** Leases when the store is slow or failing: a lease is given up before another process may take it. */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createSqliteStore, type NoiseStateRepo, type Store } from '@reflex/store';
import { leaseKey, Leases } from './leases.ts';

const TTL = 300;

describe('sensor leases', () => {
  let store: Store;
  let clock: number;
  let failing: 'no' | 'hang' | 'throw';

  /** The real store, with its lease writes made to hang or fail on demand. */
  const flaky = (): Store => {
    const noiseState: NoiseStateRepo = {
      ...store.noiseState,
      get: (...args) => store.noiseState.get(...args),
      listDue: (...args) => store.noiseState.listDue(...args),
      list: (...args) => store.noiseState.list(...args),
      update: (key, now, apply) => {
        if (failing === 'hang') return new Promise(() => undefined);
        if (failing === 'throw') return Promise.reject(new Error('store down'));
        return store.noiseState.update(key, now, apply);
      },
    };
    return { ...store, noiseState } as Store;
  };

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    clock = 1_000_000;
    failing = 'no';
  });
  afterEach(async () => {
    await store.close();
  });

  const leases = (holder: string): Leases => new Leases({ store: flaky(), holder, ttlMs: TTL, logger: pino({ level: 'silent' }), now: () => clock });

  it('takes a free lease, keeps it on renewal, and refuses one another process holds', async () => {
    const a = leases('a');
    const b = leases('b');
    expect(await a.hold(leaseKey('p.s'))).toBe(true);
    expect(await b.hold(leaseKey('p.s'))).toBe(false);
    clock += TTL / 2;
    expect(await a.hold(leaseKey('p.s'))).toBe(true);
    clock += TTL + 1; // a stopped renewing: b takes it
    expect(await b.hold(leaseKey('p.s'))).toBe(true);
    expect(await a.hold(leaseKey('p.s'))).toBe(false);
  });

  it('when the store hangs or fails, keeps a lease only until a third of the TTL before it expires', async () => {
    const a = leases('a');
    expect(await a.hold(leaseKey('p.s'))).toBe(true);

    failing = 'hang';
    clock += TTL / 2; // 150 of 300: still safely ours
    expect(await a.hold(leaseKey('p.s'))).toBe(true);
    clock += TTL / 4; // 225 of 300: within the last third, another process may take it soon
    expect(await a.hold(leaseKey('p.s'))).toBe(false);

    failing = 'no';
    expect(await a.hold(leaseKey('p.s'))).toBe(true);
    failing = 'throw';
    clock += (2 * TTL) / 3 + 1;
    expect(await a.hold(leaseKey('p.s'))).toBe(false);
  });
});
