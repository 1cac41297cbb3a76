/**
 * Noise control in the rules engine, against the embedded bus and a SQLite store: decisions are
 * recorded per (event, rule); throttle windows and alert groups fire exactly once, also when the
 * engine restarts mid-window, when two replicas share the work, and when a replica dies after
 * claiming a firing; silences and inhibitions mute events and say so.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, type Bus, type Consumer } from '@reflex/bus';
import { busNames, newId, type Decision, type Execution, type JsonObject, type ReflexEvent, type Rule } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { compileRule } from '@reflex/rules';
import { ensureStreams, publishEvent, type ServiceHandle } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { waitFor } from '../../../test/support/wait.ts';
import { startRulesEngine, type RulesEngineDeps } from './engine.ts';
import { WindowScheduler } from './scheduler.ts';

const PACKS = fileURLToPath(new URL('../../../packs', import.meta.url));
const names = busNames('noisetest');
const silent = pino({ level: 'silent' });

function rule(name: string, extra: Partial<Rule>, message = '{{ payload.alertname }} on {{ payload.host }}'): Rule {
  const now = new Date().toISOString();
  return {
    ref: `demo.${name}`,
    pack: 'demo',
    name,
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
    action: { ref: 'core.echo', parameters: { message } },
    source: 'api',
    createdAt: now,
    updatedAt: now,
    ...extra,
  };
}

function event(payload: JsonObject): ReflexEvent {
  return { id: newId(), type: 'core.webhook', triggerParameters: { url: 'alerts' }, source: 'test', payload, occurredAt: new Date().toISOString(), traceId: 'trace-n' };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('noise control in the rules engine', () => {
  let store: Store;
  let bus: Bus;
  let engines: ServiceHandle[];
  let requests: string[];
  let observer: Consumer;

  const start = async (extra: Partial<RulesEngineDeps> = {}): Promise<ServiceHandle> => {
    const engine = await startRulesEngine({ bus, store, names, logger: silent, ackWaitMs: 2000, schedulerPollMs: 100, ...extra });
    engines.push(engine);
    return engine;
  };
  const executionsOf = async (ruleRef: string): Promise<Execution[]> => (await store.executions.list({ rule: ruleRef }, { limit: 1000 })).items;
  const decisionsOf = async (e: ReflexEvent): Promise<Decision[]> => store.decisions.listByEvent(e.id);
  const processed = (events: ReflexEvent[]) =>
    waitFor(async () => ((await Promise.all(events.map((e) => store.events.get(e.id)))).every((x) => x !== null) ? true : undefined), 'the events to be processed');

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    await ensureStreams(bus, names);
    await registerPacks(store, await discoverPacks([PACKS]));
    engines = [];
    requests = [];
    observer = await bus.consume({ stream: names.executionsStream, durable: 'observer' }, async (msg) => {
      requests.push(msg.json<{ executionId: string }>().executionId);
    });
  });

  afterEach(async () => {
    for (const engine of engines) await engine.stop();
    await observer.stop();
    await bus.close();
    await store.close();
  });

  it('once_within: one firing per group and window, and a decision for every event', async () => {
    await store.rules.insert(rule('flap', { throttle: { mode: 'once_within', window: '1h', groupBy: ['payload.host'] } }, '{{ payload.host }} x{{ window.count }}'));
    await start();
    const events = [...Array.from({ length: 6 }, () => event({ host: 'db1' })), ...Array.from({ length: 4 }, () => event({ host: 'db2' }))];
    for (const e of events) await publishEvent(bus, names, e);
    await processed(events);
    const executions = await executionsOf('demo.flap');
    expect(executions.map((x) => x.parameters['message']).sort()).toEqual(['db1 x1', 'db2 x1']);
    const outcomes = (await Promise.all(events.map(decisionsOf))).map((d) => d.map((x) => x.outcome).join());
    expect(outcomes.filter((o) => o === 'fired')).toHaveLength(2);
    expect(outcomes.filter((o) => o === 'throttled')).toHaveLength(8);
    const throttled = (await Promise.all(events.map(decisionsOf))).flat().find((d) => d.outcome === 'throttled');
    expect(throttled?.window).toMatchObject({ mode: 'once_within', key: expect.stringMatching(/^host="db[12]"$/) });
    expect(throttled?.reason).toMatch(/suppresses repeats until/);
  });

  it('threshold: fires when N events arrive within the window', async () => {
    await store.rules.insert(rule('burst', { throttle: { mode: 'threshold', window: '1h', threshold: 5 } }, 'burst of {{ window.count }}'));
    await start();
    const events = Array.from({ length: 12 }, () => event({ host: 'db1' }));
    for (const e of events) await publishEvent(bus, names, e);
    await processed(events);
    expect((await executionsOf('demo.burst')).map((x) => x.parameters['message'])).toEqual(['burst of 5']);
  });

  it('once_after: a window survives a restart of the engine mid-window and fires exactly once', async () => {
    await store.rules.insert(
      rule('digest', { throttle: { mode: 'once_after', window: '700ms', groupBy: ['payload.alertname'] } }, '{{ events | size }} events, first {{ events[0].payload.host }}, last {{ payload.host }}'),
    );
    const first = await start();
    const events = ['a', 'b', 'c'].map((host) => event({ alertname: 'Disk', host }));
    for (const e of events) {
      await publishEvent(bus, names, e);
      await processed([e]);
    }
    // Stop before the window closes; nothing has fired yet.
    await first.stop();
    engines = engines.filter((e) => e !== first);
    expect(await executionsOf('demo.digest')).toEqual([]);
    await sleep(900);
    await start();
    const fired = await waitFor(async () => {
      const list = await executionsOf('demo.digest');
      return list.length > 0 ? list : undefined;
    }, 'the window to fire');
    expect(fired.map((x) => x.parameters['message'])).toEqual(['3 events, first a, last c']);
    await sleep(500);
    expect(await executionsOf('demo.digest')).toHaveLength(1);
    expect(requests.filter((id) => id === fired[0]?.id)).toHaveLength(1);
    const decisions = await store.decisions.listByWindow(events[0]!.id);
    expect(decisions.map((d) => d.outcome)).toEqual(['grouped', 'grouped', 'grouped', 'fired']);
    expect(await store.noiseState.list({ owner: 'demo.digest' })).toEqual([]);
  });

  it('groups with two replicas sharing the events: each notification exactly once, the resolved one closes the group', async () => {
    await store.rules.insert(
      rule(
        'page',
        {
          criteria: { in: [{ var: 'payload.status' }, ['firing', 'resolved']] },
          group: {
            groupBy: ['payload.alertname'],
            alertKey: ['payload.host'],
            groupWait: '300ms',
            groupInterval: '300ms',
            repeatInterval: '1h',
            resolved: { '==': [{ var: 'payload.status' }, 'resolved'] },
          },
        },
        '[{{ group.status }}] {{ group.labels.alertname }}: {% for a in group.alerts %}{{ a.payload.host }}={{ a.status }} {% endfor %}#{{ group.seq }}',
      ),
    );
    await start({ durable: 'shared' });
    await start({ durable: 'shared' });
    const firing = Array.from({ length: 30 }, (_, i) => event({ alertname: 'HighCPU', host: `h${i % 3}`, status: 'firing' }));
    for (const e of firing) await publishEvent(bus, names, e);
    await processed(firing);
    await waitFor(async () => ((await executionsOf('demo.page')).length === 1 ? true : undefined), 'the first notification');
    const resolved = Array.from({ length: 9 }, (_, i) => event({ alertname: 'HighCPU', host: `h${i % 3}`, status: 'resolved' }));
    for (const e of resolved) await publishEvent(bus, names, e);
    await processed(resolved);
    await waitFor(async () => ((await executionsOf('demo.page')).length === 2 ? true : undefined), 'the resolved notification');
    await sleep(800);
    const messages = (await executionsOf('demo.page')).map((x) => x.parameters['message']).sort();
    expect(messages).toEqual(['[firing] HighCPU: h0=firing h1=firing h2=firing #1', '[resolved] HighCPU: h0=resolved h1=resolved h2=resolved #2']);
    expect(new Set(requests).size).toBe(requests.length);
    expect(await store.noiseState.list({ owner: 'demo.page' })).toEqual([]);
    const decision = (await decisionsOf(firing[5]!))[0];
    expect(decision).toMatchObject({ outcome: 'grouped', window: { mode: 'group', key: 'alertname="HighCPU"', id: firing[0]!.id } });
  });

  it('a firing claimed by a replica that died is finished by another, with the same execution', async () => {
    // A long window: the engine's own timer (real time) stays far away while the test moves its clock.
    await store.rules.insert(rule('digest', { throttle: { mode: 'once_after', window: '1h' } }, 'n={{ events | size }}'));
    let clock = Date.now();
    await start({ now: () => clock, schedulerPollMs: 60_000 });
    const events = [event({ host: 'a' }), event({ host: 'b' })];
    for (const e of events) await publishEvent(bus, names, e);
    await processed(events);
    clock += 2 * 3_600_000;
    // A scheduler whose bus refuses to publish: it claims, records, and fails before the request goes out.
    const broken = Object.create(bus) as Bus;
    broken.publish = async () => {
      throw new Error('bus down');
    };
    const compiled = compileRule((await store.rules.get('demo.digest'))!);
    const action = (await store.actions.get('core.echo'))!;
    const schedulerOf = (b: Bus) =>
      new WindowScheduler({ store, bus: b, names, logger: silent, now: () => clock, ruleOf: async () => compiled, actionOf: () => action, leaseMs: 5000 });
    expect(await schedulerOf(broken).tick()).toBe(0);
    const [recorded] = await executionsOf('demo.digest');
    expect(recorded?.parameters).toEqual({ message: 'n=2' });
    expect(requests).toEqual([]);
    // Another scheduler: nothing while the lease holds, then it finishes the same firing.
    expect(await schedulerOf(bus).tick()).toBe(0);
    clock += 6000;
    expect(await schedulerOf(bus).tick()).toBe(1);
    await waitFor(async () => (requests.length === 1 ? true : undefined), 'the request');
    expect(requests).toEqual([recorded?.id]);
    expect(await executionsOf('demo.digest')).toHaveLength(1);
    expect(await store.noiseState.list({ owner: 'demo.digest' })).toEqual([]);
  });

  it('drops, unfired, the due window of a rule that was deleted', async () => {
    await store.rules.insert(rule('gone', { throttle: { mode: 'once_after', window: '1h' } }, 'n={{ events | size }}'));
    let clock = Date.now();
    await start({ now: () => clock, schedulerPollMs: 60_000 });
    const e = event({ host: 'a' });
    await publishEvent(bus, names, e);
    await processed([e]);
    expect(await store.noiseState.list({ owner: 'demo.gone' })).toHaveLength(1);
    clock += 2 * 3_600_000;
    const action = (await store.actions.get('core.echo'))!;
    const scheduler = new WindowScheduler({ store, bus, names, logger: silent, now: () => clock, ruleOf: async () => undefined, actionOf: () => action });
    expect(await scheduler.tick()).toBe(0);
    expect(await store.noiseState.list({ owner: 'demo.gone' })).toEqual([]);
    expect(await executionsOf('demo.gone')).toEqual([]);
  });

  it('records silenced and inhibited events, and lets a resolution end the inhibition', async () => {
    await store.rules.insert(rule('any', { criteria: { '!=': [{ var: 'payload.alertname' }, 'DatacenterDown'] } }));
    const at = new Date().toISOString();
    await store.silences.insert({
      id: 'sil-1',
      matchers: [
        { path: 'payload.alertname', op: '=', value: 'Noisy' },
        { path: 'rule.ref', op: '=~', value: 'demo\\..*' },
      ],
      startsAt: at,
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      createdBy: 'ann',
      comment: 'known',
      createdAt: at,
      updatedAt: at,
    });
    await store.inhibitions.insert({
      id: 'inh-1',
      source: { '==': [{ var: 'payload.alertname' }, 'DatacenterDown'] },
      target: { '==': [{ var: 'payload.severity' }, 'warning'] },
      resolved: { '==': [{ var: 'payload.status' }, 'resolved'] },
      equal: ['payload.dc'],
      duration: '1h',
      createdBy: 'ann',
      createdAt: at,
    });
    await start();
    const noisy = event({ alertname: 'Noisy', host: 'x' });
    const down = event({ alertname: 'DatacenterDown', dc: 'fra', status: 'firing' });
    const inFra = event({ alertname: 'HostDown', host: 'h1', dc: 'fra', severity: 'warning' });
    const inAms = event({ alertname: 'HostDown', host: 'h2', dc: 'ams', severity: 'warning' });
    for (const e of [noisy, down]) await publishEvent(bus, names, e);
    await processed([noisy, down]);
    for (const e of [inFra, inAms]) await publishEvent(bus, names, e);
    await processed([inFra, inAms]);
    expect(await decisionsOf(noisy)).toMatchObject([{ outcome: 'silenced', silenceId: 'sil-1', rule: 'demo.any' }]);
    expect(await decisionsOf(down)).toEqual([]);
    expect(await decisionsOf(inFra)).toMatchObject([{ outcome: 'inhibited', inhibition: { id: 'inh-1', sourceEventId: down.id } }]);
    expect(await decisionsOf(inAms)).toMatchObject([{ outcome: 'fired', executionId: expect.stringMatching(/^exe-/) }]);

    const up = event({ alertname: 'DatacenterDown', dc: 'fra', status: 'resolved' });
    await publishEvent(bus, names, up);
    await processed([up]);
    const again = event({ alertname: 'HostDown', host: 'h1', dc: 'fra', severity: 'warning' });
    await publishEvent(bus, names, again);
    await processed([again]);
    expect(await decisionsOf(again)).toMatchObject([{ outcome: 'fired' }]);
    expect((await executionsOf('demo.any')).map((x) => x.parameters['message']).sort()).toEqual(['HostDown on h1', 'HostDown on h2']);
  });

  it('records why a rule whose criteria failed to evaluate did not match', async () => {
    await store.rules.insert(rule('bad', { criteria: { regex: [{ var: 'payload.obj' }, 'x'] } }));
    await start();
    const e = event({ obj: { nested: true } });
    await publishEvent(bus, names, e);
    await processed([e]);
    expect(await decisionsOf(e)).toMatchObject([{ outcome: 'not_matched', error: { code: 'CRITERIA_EVALUATION_FAILED' } }]);
  });
});
