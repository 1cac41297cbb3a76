/**
 * Pack sensors under supervision, for real: a temp pack (outside the repo, importing @reflex/sdk)
 * registered in a store, the sensors service forking one process per sensor, events on NATS.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNatsBus, type Bus } from '@reflex/bus';
import { busNames, SENSOR_STATUS_SCOPE, type ReflexEvent, type SensorStatus } from '@reflex/model';
import { loadPack, registerPacks } from '@reflex/packs';
import { ensureStreams, type ServiceHandle } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { waitFor } from '../../../test/support/wait.ts';
import { leaseKey } from './leases.ts';
import { startSensors, type SensorsDeps } from './sensors-service.ts';

const names = busNames(`sensors${randomBytes(4).toString('hex')}`);

const FILES: Record<string, string> = {
  'pack.yaml': 'name: demo\nversion: 1.0.0\n',
  'triggers/tick.yaml': `
name: tick
payload_schema:
  type: object
  additionalProperties: false
  required: [n, pid]
  properties:
    n: { type: integer }
    pid: { type: integer }
`,
  'sensors/ticker.yaml': 'name: ticker\nentry_point: ticker.ts\ntrigger_types: [tick]\npoll_interval: 0.1\n',
  'sensors/ticker.ts': `
import { defineSensor, defineTriggerType } from '@reflex/sdk';
const tick = defineTriggerType({ ref: 'demo.tick', payloadSchema: { type: 'object', required: ['n', 'pid'], properties: { n: { type: 'integer' }, pid: { type: 'integer' } } } });
let n = 0;
export default defineSensor({
  triggerTypes: [tick],
  pollInterval: 60,
  async poll(ctx) {
    n += 1;
    await ctx.kv.put('ticks', n);
    await ctx.emit({ n, pid: process.pid }, { traceId: 'tick-' + n });
  },
});
`,
  'sensors/crasher.yaml': 'name: crasher\nentry_point: crasher.ts\ntrigger_types: [tick]\n',
  'sensors/crasher.ts': `throw new Error('cannot reach the frobnicator');\n`,
  'sensors/liar.yaml': 'name: liar\nentry_point: liar.mjs\ntrigger_types: [tick]\npoll_interval: 0.1\n',
  'sensors/liar.mjs': `
export default {
  async poll(ctx) {
    try {
      await ctx.emit({ n: 'many', pid: process.pid });
    } catch (err) {
      ctx.logger.info({ code: err.code }, 'refused as expected');
    }
  },
};
`,
  'sensors/flaky.yaml': 'name: flaky\nentry_point: flaky.mjs\ntrigger_types: [tick]\npoll_interval: 0.1\n',
  'sensors/flaky.mjs': `export default { poll() { throw new Error('the API said 503'); } };\n`,
  'sensors/hangs.yaml': 'name: hangs\nentry_point: hangs.mjs\ntrigger_types: [tick]\npoll_interval: 0.1\n',
  'sensors/hangs.mjs': `export default { poll() { for (;;) {} } };\n`,
};

const fast: Partial<SensorsDeps> = {
  backoff: { initialMs: 100, maxMs: 5000, jitter: 0, resetAfterMs: 60_000 },
  leaseTtlMs: 1500,
  leaseRenewMs: 200,
  heartbeatMs: 100,
  hangTimeoutMs: 1500,
  stopGraceMs: 1000,
  statusFlushMs: 50,
  reloadIntervalMs: 60_000,
};

async function statusOf(store: Store, ref: string): Promise<SensorStatus | undefined> {
  const entry = await store.keys.get(SENSOR_STATUS_SCOPE, ref);
  return (entry?.value as SensorStatus | undefined) ?? undefined;
}

describe('supervised pack sensors', () => {
  let dir: string;
  let store: Store;
  let bus: Bus;
  const seen: ReflexEvent[] = [];
  const handles: ServiceHandle[] = [];
  const start = async (holder: string): Promise<ServiceHandle> => {
    const handle = await startSensors({ bus, store, names, logger: pino({ level: 'silent' }), holder, ...fast });
    handles.push(handle);
    return handle;
  };

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'reflex-sensors-test-'));
    for (const [rel, text] of Object.entries(FILES)) {
      await mkdir(path.dirname(path.join(dir, 'demo', rel)), { recursive: true });
      await writeFile(path.join(dir, 'demo', rel), text);
    }
    store = await createSqliteStore({ path: ':memory:' });
    const [registered] = await registerPacks(store, [await loadPack(path.join(dir, 'demo'))]);
    expect(registered?.ok, JSON.stringify(registered)).toBe(true);
    bus = await createNatsBus({ servers: inject('natsUrl'), name: 'sensors-test' });
    await ensureStreams(bus, names);
    await bus.consume({ stream: names.eventsStream, durable: 'observer' }, async (msg) => {
      seen.push(msg.json<ReflexEvent>());
    });
    await start('one');
  });

  afterAll(async () => {
    for (const handle of handles) await handle.stop();
    await bus.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('publishes what a poll sensor emits: its trigger type, source sensor:<ref>, its trace id; kv writes land in the pack scope', async () => {
    const ticks = await waitFor(async () => {
      const found = seen.filter((e) => e.source === 'sensor:demo.ticker');
      return found.length >= 3 ? found : undefined;
    }, 'three ticks on the bus');
    expect(ticks[0]).toMatchObject({ type: 'demo.tick', source: 'sensor:demo.ticker', payload: { n: 1 }, traceId: 'tick-1' });
    const status = await waitFor(async () => {
      const s = await statusOf(store, 'demo.ticker');
      return s !== undefined && s.emitted >= 3 ? s : undefined;
    }, 'the ticker status');
    expect(status).toMatchObject({ state: 'running', holder: 'one', restarts: 0, refused: 0, supervisorPid: process.pid });
    expect(status.pid).toBe((ticks[0]?.payload as { pid: number }).pid);
    expect(status.lastEmitAt).toBeDefined();
    expect((await store.keys.get('pack:demo', 'ticks'))?.value).toBeGreaterThanOrEqual(3);
  });

  it('restarts a sensor that throws on start with a growing backoff; its status has the restarts and the error', async () => {
    const delays = new Map<number, number>();
    const status = await waitFor(
      async () => {
        const s = await statusOf(store, 'demo.crasher');
        if (s?.state === 'backoff' && s.nextStartAt !== undefined && s.lastError !== undefined) {
          delays.set(s.restarts, Date.parse(s.nextStartAt) - Date.parse(s.lastError.at));
        }
        return s !== undefined && s.restarts >= 4 ? s : undefined;
      },
      'four restarts of the crasher',
      20_000,
      10,
    );
    expect(status.lastError?.message).toMatch(/cannot be loaded: cannot reach the frobnicator/);
    expect(status.emitted).toBe(0);
    const observed = [...delays.entries()].sort(([a], [b]) => a - b);
    expect(observed.length).toBeGreaterThanOrEqual(2);
    for (const [restarts, delay] of observed) expect(Math.abs(delay - 100 * 2 ** (restarts - 1))).toBeLessThanOrEqual(5);
    for (let i = 1; i < observed.length; i++) expect(observed[i]![1]).toBeGreaterThan(observed[i - 1]![1]);
  });

  it('refuses and counts a payload that fails the trigger type schema, and publishes nothing of it', async () => {
    const status = await waitFor(async () => {
      const s = await statusOf(store, 'demo.liar');
      return s !== undefined && s.refused >= 2 ? s : undefined;
    }, 'refused events of the liar');
    expect(status).toMatchObject({ state: 'running', emitted: 0, restarts: 0 });
    expect(status.lastError?.message).toMatch(/event refused: .*payload\.n/);
    expect(seen.filter((e) => e.source === 'sensor:demo.liar')).toEqual([]);
  });

  it('counts poll errors without restarting, and kills and restarts a sensor that hangs', async () => {
    const flaky = await waitFor(async () => {
      const s = await statusOf(store, 'demo.flaky');
      return s !== undefined && s.pollErrors >= 3 ? s : undefined;
    }, 'poll errors of the flaky sensor');
    expect(flaky).toMatchObject({ state: 'running', restarts: 0, lastError: { message: 'poll failed: the API said 503' } });

    const hung = await waitFor(async () => {
      const s = await statusOf(store, 'demo.hangs');
      return s !== undefined && s.restarts >= 1 ? s : undefined;
    }, 'the hung sensor to be killed');
    expect(hung.lastError?.message).toMatch(/stopped answering/);
  });

  it('runs each sensor in one process of several; a graceful stop hands it over at once', async () => {
    const two = await start('two');
    // Process one holds every lease; the second one only waits.
    await new Promise((r) => setTimeout(r, 600));
    expect((await store.noiseState.get(leaseKey('demo.ticker')))?.data).toEqual({ holder: 'one' });
    expect((await store.noiseState.get(leaseKey('core.interval')))?.data).toEqual({ holder: 'one' });
    const first = handles[0] as ServiceHandle;
    await first.stop();
    handles.splice(0, 1);
    const taken = await waitFor(async () => {
      const s = await statusOf(store, 'demo.ticker');
      return s?.holder === 'two' && s.state === 'running' && s.emitted > 0 ? s : undefined;
    }, 'the second process to run the ticker');
    expect((await store.noiseState.get(leaseKey('demo.ticker')))?.data).toEqual({ holder: 'two' });
    const pids = new Set(seen.filter((e) => e.source === 'sensor:demo.ticker').map((e) => (e.payload as { pid: number }).pid));
    expect(pids.has(taken.pid as number)).toBe(true);
    expect(pids.size).toBe(2);
    await two.stop();
    handles.splice(0, 1);
    expect(await store.noiseState.get(leaseKey('demo.ticker'))).toBeNull();
    expect((await statusOf(store, 'demo.ticker'))?.state).toBe('stopped');
  });
});
