/** The core.interval sensor: timers follow the enabled rules that use them, and emit real events. */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, type Bus } from '@reflex/bus';
import { busNames, type ReflexEvent, type Rule } from '@reflex/model';
import { ensureStreams } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { waitFor } from '../../../test/support/wait.ts';
import { IntervalTimers, periodOf } from './interval-timers.ts';

const names = busNames('sensortest');

function rule(name: string, parameters: Record<string, unknown>, enabled = true): Rule {
  const now = new Date().toISOString();
  return {
    ref: `demo.${name}`,
    pack: 'demo',
    name,
    enabled,
    trigger: { type: 'core.interval', parameters: parameters as Rule['trigger']['parameters'] },
    action: { ref: 'core.noop' },
    source: 'api',
    createdAt: now,
    updatedAt: now,
  };
}

describe('interval timers', () => {
  let store: Store;
  let bus: Bus;
  let timers: IntervalTimers;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    await ensureStreams(bus, names);
    timers = new IntervalTimers({ bus, store, names, logger: pino({ level: 'silent' }) });
  });

  afterEach(async () => {
    timers.stop();
    await bus.close();
    await store.close();
  });

  it('computes periods and refuses nonsense', () => {
    expect(periodOf({ delay: 2, unit: 'minutes' })).toBe(120_000);
    expect(periodOf({ delay: 5 })).toBe(5000);
    expect(periodOf({ delay: -1 })).toBeNull();
    expect(periodOf({ delay: 1, unit: 'fortnights' })).toBeNull();
  });

  it('runs one timer per distinct schedule of enabled rules and emits core.interval events', async () => {
    await store.rules.insert(rule('a', { delay: 150, unit: 'milliseconds' }));
    await store.rules.insert(rule('b', { unit: 'milliseconds', delay: 150 }));
    await store.rules.insert(rule('c', { delay: 1, unit: 'hours' }));
    await store.rules.insert(rule('off', { delay: 2, unit: 'hours' }, false));
    await store.rules.insert(rule('flood', { delay: 1, unit: 'milliseconds' }));
    await timers.reload();
    expect(timers.running).toBe(2);
    const seen: ReflexEvent[] = [];
    const consumer = await bus.consume({ stream: names.eventsStream, durable: 'observer' }, async (msg) => {
      seen.push(msg.json<ReflexEvent>());
    });
    const first = await waitFor(async () => seen[0], 'an interval event');
    await consumer.stop();
    expect(first).toMatchObject({ type: 'core.interval', source: 'sensor:core.interval', triggerParameters: { delay: 150, unit: 'milliseconds' } });
    expect(first.payload).toMatchObject({ schedule: { delay: 150, unit: 'milliseconds' } });

    await store.rules.delete('demo.a');
    await store.rules.delete('demo.b');
    await timers.reload();
    expect(timers.running).toBe(1);
  });
});
