/**
 * The Store contract for noise control: state updates that are atomic read-modify-writes (also
 * under concurrent callers), expiry, the scheduler's due list, decisions recorded with firings,
 * silences and inhibitions.
 */
import { describe, expect, it } from 'vitest';
import { ConflictError, ValidationError, type Decision, type Inhibition, type Silence } from '@reflex/model';
import type { NoiseState, Store } from '../src/index.ts';
import { HOUR, MINUTE, T0, at, makeFiring, rejection } from './fixtures.ts';

const NOW = new Date(T0 + HOUR);
const iso = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toISOString();

/** Adds one to the counter in `data.n`, creating it at 1. */
const increment = (owner = 'p.rule') => (current: NoiseState | null) => {
  const n = typeof current?.data['n'] === 'number' ? current.data['n'] : 0;
  return { write: { owner, data: { n: n + 1 } }, result: n + 1 };
};

function decision(eventId: string, rule: string, overrides: Partial<Decision> = {}): Decision {
  return { id: `dec-${eventId}-${rule}`, eventId, rule, outcome: 'fired', reason: 'matched', at: at(0), traceId: 't', ...overrides };
}

function silence(id: string, overrides: Partial<Silence> = {}): Silence {
  return {
    id,
    matchers: [{ path: 'payload.alert.labels.alertname', op: '=', value: 'Noisy' }],
    startsAt: at(0),
    endsAt: at(2 * HOUR),
    createdBy: 'ann',
    comment: 'maintenance',
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

export function runNoiseConformance(storeOf: () => Store): void {
  describe('noise state', () => {
    it('creates, versions, leaves alone and deletes a state in one atomic update each', async () => {
      const store = storeOf();
      expect(await store.noiseState.get('k', NOW)).toBeNull();
      expect(await store.noiseState.update('k', NOW, increment())).toBe(1);
      expect(await store.noiseState.update('k', NOW, increment())).toBe(2);
      const stored = await store.noiseState.get('k', NOW);
      expect(stored).toMatchObject({ key: 'k', owner: 'p.rule', data: { n: 2 }, version: 2 });
      expect(stored?.updatedAt).toMatch(/^\d{4}-/);
      expect(stored?.dueAt).toBeUndefined();

      // No write: nothing changes, the result still comes back.
      expect(await store.noiseState.update('k', NOW, (current) => ({ result: current?.version }))).toBe(2);
      expect((await store.noiseState.get('k', NOW))?.version).toBe(2);

      expect(await store.noiseState.update('k', NOW, () => ({ write: null, result: 'gone' }))).toBe('gone');
      expect(await store.noiseState.get('k', NOW)).toBeNull();
      expect(await store.noiseState.update('k', NOW, () => ({ write: null, result: 'still gone' }))).toBe('still gone');
    });

    it('never loses an update when many run at once on one key', async () => {
      const store = storeOf();
      const results = await Promise.all(Array.from({ length: 40 }, () => store.noiseState.update('hot', NOW, increment())));
      expect((await store.noiseState.get('hot', NOW))?.data).toEqual({ n: 40 });
      expect([...results].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    });

    it('reads an expired state as absent, and a new one replaces it', async () => {
      const store = storeOf();
      await store.noiseState.update('w', NOW, () => ({ write: { owner: 'p.rule', data: { n: 7 }, expiresAt: iso(MINUTE) }, result: null }));
      expect((await store.noiseState.get('w', NOW))?.data).toEqual({ n: 7 });
      const later = new Date(NOW.getTime() + 2 * MINUTE);
      expect(await store.noiseState.get('w', later)).toBeNull();
      expect(await store.noiseState.update('w', later, (current) => ({ result: current }))).toBeNull();
      expect(await store.noiseState.update('w', later, increment())).toBe(1);
      expect((await store.noiseState.get('w', later))?.data).toEqual({ n: 1 });
    });

    it('lists due states earliest first, without future or expired ones, and by owner', async () => {
      const store = storeOf();
      const put = (key: string, owner: string, extra: { dueAt?: string; expiresAt?: string }) =>
        store.noiseState.update(key, NOW, () => ({ write: { owner, data: { key }, ...extra }, result: null }));
      await put('late', 'p.a', { dueAt: iso(-1000) });
      await put('early', 'p.b', { dueAt: iso(-5000) });
      await put('future', 'p.a', { dueAt: iso(MINUTE) });
      await put('none', 'p.a', {});
      await put('expired', 'p.a', { dueAt: iso(-9000), expiresAt: iso(-1) });
      expect((await store.noiseState.listDue(NOW)).map((s) => s.key)).toEqual(['early', 'late']);
      expect((await store.noiseState.listDue(NOW, 1)).map((s) => s.key)).toEqual(['early']);
      expect((await store.noiseState.listDue(new Date(NOW.getTime() + 2 * MINUTE))).map((s) => s.key)).toEqual(['early', 'late', 'future']);

      // Clearing dueAt takes a state off the due list.
      await store.noiseState.update('early', NOW, (current) => ({ write: { owner: current!.owner, data: current!.data }, result: null }));
      expect((await store.noiseState.listDue(NOW)).map((s) => s.key)).toEqual(['late']);
      expect((await store.noiseState.list({ owner: 'p.a' })).map((s) => s.key)).toEqual(['future', 'late', 'none']);
    });

    it('writes nothing when apply throws or a time is bad', async () => {
      const store = storeOf();
      await store.noiseState.update('x', NOW, increment());
      await expect(
        store.noiseState.update('x', NOW, () => {
          throw new Error('decided not to');
        }),
      ).rejects.toThrow('decided not to');
      const err = await rejection(store.noiseState.update('x', NOW, () => ({ write: { owner: 'p', data: {}, dueAt: 'soon' }, result: null })));
      expect(err).toBeInstanceOf(ValidationError);
      expect((await store.noiseState.get('x', NOW))?.data).toEqual({ n: 1 });
    });

    it('purges expired states', async () => {
      const store = storeOf();
      await store.noiseState.update('old', NOW, () => ({ write: { owner: 'p', data: {}, expiresAt: iso(-HOUR / 2) }, result: null }));
      await store.noiseState.update('fresh', NOW, () => ({ write: { owner: 'p', data: {}, expiresAt: new Date(Date.now() + HOUR).toISOString() }, result: null }));
      await store.purgeExpired();
      expect(await store.noiseState.update('old', new Date(0), (current) => ({ result: current }))).toBeNull();
      expect(await store.noiseState.get('fresh')).not.toBeNull();
    });
  });

  describe('decisions', () => {
    it('are recorded with their firing, idempotently, and listed by event and by window', async () => {
      const store = storeOf();
      const firing = makeFiring('evt-d1', ['p.a']);
      firing.decisions = [
        decision('evt-d1', 'p.a', { enforcementId: firing.enforcements[0]!.id }),
        decision('evt-d1', 'p.b', { outcome: 'grouped', reason: 'joined', at: at(1), window: { id: 'evt-d0', mode: 'group', key: 'a="1"' } }),
      ];
      await store.record([firing]);
      await store.record([firing]);
      expect(await store.decisions.listByEvent('evt-d1')).toStrictEqual(firing.decisions);
      await store.decisions.insert([
        decision('evt-d0', 'p.b', { outcome: 'grouped', reason: 'opened', at: at(-1), window: { id: 'evt-d0', mode: 'group', key: 'a="1"' } }),
        decision('evt-d2', 'p.b', { id: 'dec-fire', outcome: 'fired', at: at(5), window: { id: 'evt-d0', mode: 'group', key: 'a="1"', seq: 1 } }),
      ]);
      await store.decisions.insert([decision('evt-d2', 'p.b', { id: 'dec-fire', outcome: 'failed', at: at(5) })]);
      expect((await store.decisions.listByWindow('evt-d0')).map((d) => d.eventId)).toEqual(['evt-d0', 'evt-d1', 'evt-d2']);
      expect((await store.decisions.listByWindow('evt-d0', { outcome: 'fired' })).map((d) => d.id)).toEqual(['dec-fire']);
      expect(await store.decisions.listByWindow('evt-d0', { limit: 1 })).toHaveLength(1);
      expect(await store.decisions.listByEvent('nothing')).toEqual([]);
    });

    it('expire with the executions', async () => {
      const store = storeOf();
      await store.decisions.insert([decision('evt-old', 'p.a')]);
      await store.purgeExpired(new Date(T0 + 31 * 24 * HOUR));
      expect(await store.decisions.listByEvent('evt-old')).toEqual([]);
    });
  });

  describe('silences', () => {
    it('inserts, lists oldest first and refuses a taken id', async () => {
      const store = storeOf();
      await store.silences.insert(silence('s2', { createdAt: at(10) }));
      await store.silences.insert(silence('s1'));
      expect((await store.silences.list()).map((s) => s.id)).toEqual(['s1', 's2']);
      expect(await store.silences.get('s1')).toStrictEqual(silence('s1'));
      expect(await rejection(store.silences.insert(silence('s1')))).toBeInstanceOf(ConflictError);
      expect(await store.silences.get('nope')).toBeNull();
    });

    it('expires once: a second expire keeps the first end, a pending one never starts', async () => {
      const store = storeOf();
      await store.silences.insert(silence('s'));
      const ended = await store.silences.expire('s', at(HOUR));
      expect(ended?.endsAt).toBe(at(HOUR));
      expect((await store.silences.expire('s', at(HOUR + MINUTE)))?.endsAt).toBe(at(HOUR));
      expect(await store.silences.get('s')).toStrictEqual(ended);

      await store.silences.insert(silence('later', { startsAt: at(3 * HOUR), endsAt: at(4 * HOUR) }));
      const never = await store.silences.expire('later', at(HOUR));
      expect(never).toMatchObject({ startsAt: at(HOUR), endsAt: at(HOUR) });
      expect(await store.silences.expire('nope', at(HOUR))).toBeNull();
    });
  });

  describe('inhibitions', () => {
    it('inserts, lists, gets and deletes', async () => {
      const store = storeOf();
      const inhibition = (id: string, createdAt: string): Inhibition => ({
        id,
        source: { '==': [{ var: 'payload.alert.labels.alertname' }, 'DatacenterDown'] },
        target: { '==': [{ var: 'payload.alert.labels.severity' }, 'warning'] },
        equal: ['payload.alert.labels.datacenter'],
        duration: '1h',
        createdBy: 'ann',
        createdAt,
      });
      await store.inhibitions.insert(inhibition('i2', at(5)));
      await store.inhibitions.insert(inhibition('i1', at(0)));
      expect((await store.inhibitions.list()).map((i) => i.id)).toEqual(['i1', 'i2']);
      expect(await store.inhibitions.get('i2')).toStrictEqual(inhibition('i2', at(5)));
      expect(await rejection(store.inhibitions.insert(inhibition('i1', at(0))))).toBeInstanceOf(ConflictError);
      expect(await store.inhibitions.delete('i1')).toBe(true);
      expect(await store.inhibitions.delete('i1')).toBe(false);
      expect((await store.inhibitions.list()).map((i) => i.id)).toEqual(['i2']);
    });
  });
}
