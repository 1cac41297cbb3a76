/**
 * The rules engine: consumes events (competing consumers on one durable, so replicas share the
 * work), matches them against the rule index, stores the event with its enforcements and
 * executions — in one write shared with the other events handled at the same time
 * (record-batcher.ts) — publishes the execution requests, and only then acks. A crash at any
 * point means redelivery; derived ids make the second pass write and publish nothing new.
 *
 * Noise control sits between matching and firing (decide.ts): silences, inhibitions, throttle
 * windows and alert groups decide which matched rules fire now; what each rule decided is stored
 * with the event. Windows and groups that fire later fire from the scheduler (scheduler.ts).
 */
import type { Logger } from 'pino';
import type { Bus, BusMessage, Consumer } from '@reflex/bus';
import type { BusNames, ReflexEvent } from '@reflex/model';
import { onChange, publishExecutionRequest, type ServiceHandle } from '@reflex/runtime';
import type { Store } from '@reflex/store';
import { Decider, firedDecisions, type ToFire } from './decide.ts';
import { enforce } from './enforce.ts';
import { KvCache } from './kv-context.ts';
import { NoiseConfig } from './noise-config.ts';
import { RecordBatcher } from './record-batcher.ts';
import { RuleCache } from './rule-cache.ts';
import { WindowScheduler } from './scheduler.ts';

export interface RulesEngineDeps {
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
  /** Events handled at once by this process. Default 32. */
  concurrency?: number;
  /** Full rule reload period, a safety net behind change notices. Default 30 s. */
  reloadIntervalMs?: number;
  /** Durable consumer name; replicas with the same name share the events. */
  durable?: string;
  /** An event not acked in this time goes to another replica (after a crash). Default 30 s. */
  ackWaitMs?: number;
  /** Most events whose records are written in one store call. Default 256. */
  maxRecordBatch?: number;
  /** Opens datastore secrets that templates read (`kv.system.<name>`); the API's secrets key. */
  secretsKey?: Uint8Array;
  /** The clock of noise control (windows, groups, silences). Default `Date.now`. */
  now?: () => number;
  /** How often the window scheduler looks for windows other replicas made due. Default 1000 ms. */
  schedulerPollMs?: number;
  /** How long a claimed window firing is this replica's before another may finish it. Default 30 s. */
  schedulerLeaseMs?: number;
}

export interface RulesEngineHandle extends ServiceHandle {
  /** Fires what is due at the engine's clock (`now`) and resolves once it is recorded: for callers that drive the clock. */
  runDue(): Promise<void>;
}

export async function startRulesEngine(deps: RulesEngineDeps): Promise<RulesEngineHandle> {
  const logger = deps.logger.child({ service: 'rules-engine' });
  const cache = new RuleCache(deps.store, logger);
  const records = new RecordBatcher(deps.store, { maxBatch: deps.maxRecordBatch ?? 256 });
  const kv = new KvCache({ store: deps.store, ...(deps.secretsKey === undefined ? {} : { secretsKey: deps.secretsKey }) });
  const now = deps.now ?? Date.now;
  const noise = new NoiseConfig(deps.store, logger, now);
  const decider = new Decider(deps.store, noise);
  const subscriptions = [
    ...onChange(deps.bus, deps.names, ['rules', 'packs'], () => cache.invalidate()),
    ...kv.subscribe(deps.bus, deps.names),
    ...onChange(deps.bus, deps.names, ['noise'], () => noise.invalidate()),
  ];
  const reload = setInterval(() => {
    cache.invalidate();
    noise.invalidate();
  }, deps.reloadIntervalMs ?? 30_000);
  reload.unref();
  await Promise.all([cache.fresh(), noise.fresh()]);
  const scheduler = new WindowScheduler({
    store: deps.store,
    bus: deps.bus,
    names: deps.names,
    logger,
    now,
    ruleOf: async (ref) => {
      await cache.fresh();
      return cache.rules.get(ref);
    },
    actionOf: (ref) => cache.action(ref),
    kvOf: async (rule) => (await kv.forRules([rule])).get(rule.ref),
    ...(deps.schedulerPollMs === undefined ? {} : { pollMs: deps.schedulerPollMs }),
    ...(deps.schedulerLeaseMs === undefined ? {} : { leaseMs: deps.schedulerLeaseMs }),
  });

  const handle = async (msg: BusMessage): Promise<void> => {
    let event: ReflexEvent;
    try {
      event = msg.json<ReflexEvent>();
    } catch (err) {
      logger.error({ err, seq: msg.seq }, 'malformed event message; dropped');
      msg.term();
      return;
    }
    await Promise.all([cache.fresh(), noise.fresh()]);
    let log: Logger | undefined;
    const results = cache.rules.match(event);
    for (const result of results) {
      if (!result.matched && result.error !== undefined) {
        log ??= logger.child({ eventId: event.id, traceId: event.traceId });
        log.warn({ rule: result.rule.rule.ref, err: result.error }, 'criteria could not be evaluated');
      }
    }
    const nowMs = now();
    const at = new Date(nowMs).toISOString();
    // Silences, inhibitions, throttle windows and alert groups: which matched rules fire now.
    const decided = await decider.decide(event, results, nowMs);
    for (const dueAt of decided.wakeAt) scheduler.wake(dueAt);
    const toFire = new Map<string, ToFire>(decided.toFire.map((f) => [f.compiled.ref, f]));
    const matched = decided.toFire.map((f) => f.compiled);
    const kvByRule = await kv.forRules(matched);
    const firing = enforce(
      event,
      matched,
      (ref) => cache.action(ref),
      at,
      (rule) => kvByRule.get(rule.ref),
      (rule) => {
        const extra = toFire.get(rule.ref)?.extra;
        return extra === undefined ? undefined : { extra };
      },
    );
    firing.record.decisions = [...decided.decisions, ...firedDecisions(event, decided.toFire, firing.record.enforcements, at)];
    // Stored (batched with the events handled alongside), then published, and only then acked.
    await records.write(firing.record);
    if (firing.requests.length > 0) {
      await Promise.all(firing.requests.map((request) => publishExecutionRequest(deps.bus, deps.names, request)));
    }
    if (firing.record.enforcements.length === 0) return;
    log ??= logger.child({ eventId: event.id, traceId: event.traceId });
    for (const e of firing.record.enforcements) {
      if (e.status === 'fired') log.info({ rule: e.rule, executionId: e.executionId }, 'rule fired');
      else log.warn({ rule: e.rule, error: e.error }, 'rule matched but could not fire');
    }
  };

  const consumer: Consumer = await deps.bus.consume(
    {
      stream: deps.names.eventsStream,
      durable: deps.durable ?? 'rules-engine',
      concurrency: deps.concurrency ?? 32,
      ackWaitMs: deps.ackWaitMs ?? 30_000,
    },
    async (msg) => {
      try {
        await handle(msg);
      } catch (err) {
        logger.error({ err, seq: msg.seq, deliveryCount: msg.deliveryCount }, 'event handling failed; will be redelivered');
        throw err;
      }
    },
  );
  scheduler.start();
  logger.info({ rules: cache.rules.size, silences: noise.silences.length, inhibitions: noise.inhibitions.length }, 'rules engine started');

  return {
    name: 'rules-engine',
    runDue: () => scheduler.runDue(),
    stop: async () => {
      clearInterval(reload);
      for (const s of subscriptions) s.unsubscribe();
      await consumer.stop();
      await scheduler.stop();
    },
  };
}
