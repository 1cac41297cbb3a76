/**
 * Pack sensors across processes on a real NATS JetStream: `reflex start api` registers a pack (in a
 * folder outside the repo, written with @reflex/sdk) whose sensor emits every 200 ms, and two
 * `reflex start sensors` processes share the store. The sensor runs in exactly one of them (every
 * event comes from one process, and the API's status says which); SIGKILL that process and the other
 * takes the sensor over once the lease expires, and the events go on.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createNatsBus, type Bus } from '@reflex/bus';
import { busNames, type ReflexEvent, type SensorView } from '@reflex/model';
import { ensureStreams } from '@reflex/runtime';
import { adminKeyOf, apiClient } from '../support/api-client.ts';
import { freePort } from '../support/nats-server.ts';
import { startReflex, type ReflexProcess } from '../support/reflex-process.ts';
import { waitFor } from '../support/wait.ts';

const LEASE_SECONDS = 2;

const PACK: Record<string, string> = {
  'pack.yaml': 'name: ticks\nversion: 1.0.0\n',
  'triggers/tick.yaml': `
name: tick
payload_schema:
  type: object
  additionalProperties: false
  required: [n, pid, ppid]
  properties:
    n: { type: integer, minimum: 1 }
    pid: { type: integer }
    ppid: { type: integer }
`,
  'sensors/ticker.yaml': 'name: ticker\nentry_point: ticker.ts\ntrigger_types: [tick]\npoll_interval: 0.2\n',
  'sensors/ticker.ts': `
import { defineSensor, defineTriggerType } from '@reflex/sdk';

const tick = defineTriggerType({
  ref: 'ticks.tick',
  payloadSchema: { type: 'object', required: ['n', 'pid', 'ppid'], properties: { n: { type: 'integer' }, pid: { type: 'integer' }, ppid: { type: 'integer' } } },
} as const);

let n = 0;
export default defineSensor({
  triggerTypes: [tick],
  async poll(ctx) {
    n += 1;
    await ctx.emit({ n, pid: process.pid, ppid: process.ppid });
  },
});
`,
};

interface Tick {
  n: number;
  pid: number;
  ppid: number;
}

describe('pack sensors in two sensors processes on NATS', () => {
  const processes: ReflexProcess[] = [];
  const ticks: Array<Tick & { at: number }> = [];
  let dir: string;
  let bus: Bus;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-sensors-'));
    for (const [rel, text] of Object.entries(PACK)) {
      mkdirSync(dirname(join(dir, 'packs', 'ticks', rel)), { recursive: true });
      writeFileSync(join(dir, 'packs', 'ticks', rel), text);
    }
    const prefix = `e2e${randomBytes(4).toString('hex')}`;
    const port = await freePort();
    const env = {
      NATS_URL: inject('natsUrl'),
      REFLEX_BUS_PREFIX: prefix,
      REFLEX_DATA_DIR: join(dir, 'data'),
      REFLEX_PACKS_PATH: join(dir, 'packs'),
      REFLEX_PORT: String(port),
      REFLEX_SENSOR_LEASE_SECONDS: String(LEASE_SECONDS),
    };
    const names = busNames(prefix);
    bus = await createNatsBus({ servers: inject('natsUrl'), name: 'e2e-sensors-observer' });
    await ensureStreams(bus, names);
    await bus.consume({ stream: names.eventsStream, durable: 'observer' }, async (msg) => {
      const event = msg.json<ReflexEvent>();
      if (event.type === 'ticks.tick' && event.source === 'sensor:ticks.ticker') ticks.push({ ...(event.payload as unknown as Tick), at: Date.now() });
    });

    // The API registers the pack; the sensors processes read registered packs from the store.
    const apiProcess = startReflex(['api'], env);
    processes.push(apiProcess);
    await apiProcess.waitForLog('Reflex ready');
    api = apiClient(`http://127.0.0.1:${port}`, adminKeyOf(join(dir, 'data')));
    const sensors = [startReflex(['sensors'], env), startReflex(['sensors'], env)];
    processes.push(...sensors);
    await Promise.all(sensors.map((p) => p.waitForLog('Reflex ready')));
  }, 30_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs the sensor in exactly one process, and moves it to the other when that one is killed', async () => {
    const [, one, two] = processes as [ReflexProcess, ReflexProcess, ReflexProcess];
    const supervisors = new Set([one.child.pid, two.child.pid]);

    await waitFor(async () => (ticks.length >= 8 ? true : undefined), 'eight ticks');
    const owners = new Set(ticks.map((t) => t.ppid));
    expect(owners.size, 'every event comes from one sensors process').toBe(1);
    const owner = [...owners][0] as number;
    expect(supervisors.has(owner)).toBe(true);
    expect(new Set(ticks.map((t) => t.pid)).size, 'and from one sensor process').toBe(1);

    const before = await api.get<SensorView>('/v1/sensors/ticks.ticker');
    expect(before.status).toBe(200);
    expect(before.body.status).toMatchObject({ state: 'running', supervisorPid: owner, pid: ticks[0]?.pid, restarts: 0 });

    const victim = owner === one.child.pid ? one : two;
    const survivor = victim === one ? two : one;
    const killedAt = Date.now();
    await victim.kill('SIGKILL');
    const first = await waitFor(async () => ticks.find((t) => t.ppid === survivor.child.pid), 'the survivor to emit', 15_000);
    const takeoverMs = first.at - killedAt;
    process.stdout.write(`[sensors e2e] sensor moved to the other process ${takeoverMs} ms after SIGKILL (lease ${LEASE_SECONDS} s)\n`);
    expect(takeoverMs).toBeLessThan(LEASE_SECONDS * 1000 + 5000);

    await waitFor(async () => (ticks.filter((t) => t.ppid === survivor.child.pid).length >= 5 ? true : undefined), 'five more ticks');
    expect(ticks.filter((t) => t.at > first.at).every((t) => t.ppid === survivor.child.pid), 'nothing from the killed process after the takeover').toBe(true);
    // Statuses are written at most once a second: wait for one that counts the survivor's events.
    const after = await waitFor(async () => {
      const { status } = (await api.get<SensorView>('/v1/sensors/ticks.ticker')).body;
      return 'supervisorPid' in status && status.supervisorPid === survivor.child.pid && status.emitted >= 5 ? status : undefined;
    }, 'the status to name the survivor');
    expect(after).toMatchObject({ state: 'running', pid: first.pid, restarts: 0 });
  }, 30_000);
});
