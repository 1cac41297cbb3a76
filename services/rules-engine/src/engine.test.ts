/**
 * The rules engine against the embedded bus and a SQLite store: a redelivered event never creates
 * a second execution, and a rule whose parameters cannot be rendered records a failed enforcement
 * with the reason instead of crashing the engine.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, encodeJson, type Bus, type Consumer } from '@reflex/bus';
import { busNames, newId, type JsonObject, type ReflexEvent, type Rule } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { ensureStreams, publishEvent, type ServiceHandle } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { waitFor } from '../../../test/support/wait.ts';
import { startRulesEngine } from './engine.ts';

const PACKS = fileURLToPath(new URL('../../../packs', import.meta.url));
const names = busNames('enginetest');

function rule(name: string, message: string): Rule {
  const now = new Date().toISOString();
  return {
    ref: `demo.${name}`,
    pack: 'demo',
    name,
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url: 'hook' } },
    criteria: { '==': [{ var: 'payload.body.status' }, 'firing'] },
    action: { ref: 'core.echo', parameters: { message } },
    source: 'api',
    createdAt: now,
    updatedAt: now,
  };
}

function event(body: JsonObject): ReflexEvent {
  return {
    id: newId(),
    type: 'core.webhook',
    triggerParameters: { url: 'hook' },
    source: 'test',
    payload: { body, headers: {}, query: {} },
    occurredAt: new Date().toISOString(),
    traceId: 'trace-1',
  };
}

describe('rules engine', () => {
  let store: Store;
  let bus: Bus;
  let engine: ServiceHandle;
  let requests: string[];
  let requestConsumer: Consumer;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    await ensureStreams(bus, names);
    await registerPacks(store, await discoverPacks([PACKS]));
    requests = [];
    requestConsumer = await bus.consume({ stream: names.executionsStream, durable: 'test-observer' }, async (msg) => {
      requests.push(msg.json<{ executionId: string }>().executionId);
    });
  });

  afterEach(async () => {
    await engine?.stop();
    await requestConsumer.stop();
    await bus.close();
    await store.close();
  });

  it('turns a redelivered event into one execution and one request', async () => {
    await store.rules.insert(rule('r1', '{{ payload.body.host }}'));
    engine = await startRulesEngine({ bus, store, names, logger: pino({ level: 'silent' }) });
    const e = event({ status: 'firing', host: 'db1' });
    // The same event twice, with different bus message ids: as if a publisher retried past dedup.
    await bus.publish(names.eventSubject(e.type), encodeJson(e), { msgId: `${e.id}-a` });
    await bus.publish(names.eventSubject(e.type), encodeJson(e), { msgId: `${e.id}-b` });
    const executions = await waitFor(async () => {
      const page = await store.executions.list({ eventId: e.id });
      return page.items.length > 0 ? page.items : undefined;
    }, 'the execution');
    await waitFor(async () => ((await store.events.get(e.id)) !== null && requests.length >= 1 ? true : undefined), 'the request');
    // Let the second delivery be processed, then count.
    await waitFor(async () => ((await store.enforcements.listByEvent(e.id)).length === 1 ? true : undefined), 'the enforcement');
    await new Promise((r) => setTimeout(r, 300));
    expect((await store.executions.list({ eventId: e.id })).items).toHaveLength(1);
    expect(executions[0]?.parameters).toEqual({ message: 'db1' });
    expect(requests).toEqual([executions[0]?.id]);
  });

  it('records a failed enforcement when parameters cannot be rendered, and keeps going', async () => {
    await store.rules.insert(rule('bad', '{{ payload.body.missing.deeper }}'));
    await store.rules.insert(rule('good', 'ok'));
    engine = await startRulesEngine({ bus, store, names, logger: pino({ level: 'silent' }) });
    const e = event({ status: 'firing' });
    await publishEvent(bus, names, e);
    const enforcements = await waitFor(async () => {
      const list = await store.enforcements.listByEvent(e.id);
      return list.length === 2 ? list : undefined;
    }, 'two enforcements');
    const bad = enforcements.find((x) => x.rule === 'demo.bad');
    const good = enforcements.find((x) => x.rule === 'demo.good');
    expect(bad?.status).toBe('failed');
    expect(bad?.error?.message).toMatch(/missing|undefined/i);
    expect(good?.status).toBe('fired');
    expect((await store.executions.list({ eventId: e.id })).items.map((x) => x.rule)).toEqual(['demo.good']);
  });

  it('picks up a rule created after it started, before the next event', async () => {
    engine = await startRulesEngine({ bus, store, names, logger: pino({ level: 'silent' }) });
    await store.rules.insert(rule('late', 'x'));
    await bus.notify(names.controlSubject('rules'), encodeJson({ topic: 'rules', op: 'create', ref: 'demo.late' }));
    const e = event({ status: 'firing' });
    await publishEvent(bus, names, e);
    await waitFor(async () => ((await store.executions.list({ eventId: e.id })).items.length === 1 ? true : undefined), 'the late rule to fire');
  });
});
