/**
 * The rules engine: consumes events (competing consumers on one durable, so replicas share the
 * work), matches them against the rule index, stores the event with its enforcements and
 * executions — in one write shared with the other events handled at the same time
 * (record-batcher.ts) — publishes the execution requests, and only then acks. A crash at any
 * point means redelivery; derived ids make the second pass write and publish nothing new.
 */
import type { Logger } from 'pino';
import type { Bus, BusMessage, Consumer } from '@reflex/bus';
import type { BusNames, ReflexEvent } from '@reflex/model';
import { onChange, publishExecutionRequest, type ServiceHandle } from '@reflex/runtime';
import type { Store } from '@reflex/store';
import { enforce } from './enforce.ts';
import { RecordBatcher } from './record-batcher.ts';
import { RuleCache } from './rule-cache.ts';

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
}

export async function startRulesEngine(deps: RulesEngineDeps): Promise<ServiceHandle> {
  const logger = deps.logger.child({ service: 'rules-engine' });
  const cache = new RuleCache(deps.store, logger);
  const records = new RecordBatcher(deps.store, { maxBatch: deps.maxRecordBatch ?? 256 });
  const subscriptions = onChange(deps.bus, deps.names, ['rules', 'packs'], () => cache.invalidate());
  const reload = setInterval(() => cache.invalidate(), deps.reloadIntervalMs ?? 30_000);
  reload.unref();
  await cache.fresh();

  const handle = async (msg: BusMessage): Promise<void> => {
    let event: ReflexEvent;
    try {
      event = msg.json<ReflexEvent>();
    } catch (err) {
      logger.error({ err, seq: msg.seq }, 'malformed event message; dropped');
      msg.term();
      return;
    }
    await cache.fresh();
    const matched = [];
    let log: Logger | undefined;
    for (const result of cache.rules.match(event)) {
      if (result.matched) matched.push(result.rule);
      else if (result.error !== undefined) {
        log ??= logger.child({ eventId: event.id, traceId: event.traceId });
        log.warn({ rule: result.rule.rule.ref, err: result.error }, 'criteria could not be evaluated');
      }
    }
    const firing = enforce(event, matched, (ref) => cache.action(ref), new Date().toISOString());
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
  logger.info({ rules: cache.rules.size }, 'rules engine started');

  return {
    name: 'rules-engine',
    stop: async () => {
      clearInterval(reload);
      for (const s of subscriptions) s.unsubscribe();
      await consumer.stop();
    },
  };
}
