/**
 * A worker: one consumer per runner type it hosts, on that runner's execution subject (replicas
 * share a durable), plus a cancel listener for the attempts it is running. The action runner and
 * the chat notifier are workers with different runners.
 */
import type { Logger } from 'pino';
import type { Bus, Consumer } from '@reflex/bus';
import { decodeJson } from '@reflex/bus';
import type { BusNames, JsonObject, JsonValue } from '@reflex/model';
import type { Runner } from '@reflex/runners';
import { onChange, type ServiceHandle } from '@reflex/runtime';
import type { KeyEntry, Store } from '@reflex/store';
import { CancelError, handleRequest, type LifecycleDeps } from './lifecycle.ts';

export interface WorkerDeps {
  /** For logs: `action-runner`, `chat-notifier`. */
  service: string;
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
  runners: Runner[];
  /** Executions run at once per runner type in this process. Default 16. */
  concurrency?: number;
  /** Attempt time limit for actions without a `timeout` policy. Default 10 minutes. */
  defaultTimeoutMs?: number;
  /** A request whose runner stops acking is given to another runner after this. Default 60 s. */
  ackWaitMs?: number;
  /** Largest result kept as is. Default 1 MiB. */
  resultMaxBytes?: number;
  /** How often a request waiting for a concurrency slot asks again. Default 500 ms. */
  slotPollMs?: number;
  /**
   * The pack's configuration values (secrets open), handed to node actions as `ctx.config`; read at
   * each attempt, so a changed config applies to the next run. Default: none.
   */
  packConfig?: (pack: string) => Promise<JsonObject | undefined>;
  /**
   * Opens a sealed datastore secret, for `ctx.kv.get` of node actions (the pack's scope; every
   * runner gets `RunContext.kv`). A secret read is masked in the execution's stored output, result
   * and error. Default: none, and reading a secret fails with SECRET_UNREADABLE.
   */
  openSecret?: (entry: KeyEntry) => JsonValue;
}

export const CANCEL_TOPIC = 'cancel';

export async function startWorker(deps: WorkerDeps): Promise<ServiceHandle> {
  const logger = deps.logger.child({ service: deps.service });
  const ackWaitMs = deps.ackWaitMs ?? 60_000;
  const packDirs = new Map<string, string | undefined>();
  const running = new Map<string, AbortController>();
  const lifecycle: LifecycleDeps = {
    bus: deps.bus,
    store: deps.store,
    names: deps.names,
    logger,
    defaultTimeoutMs: deps.defaultTimeoutMs ?? 600_000,
    resultMaxBytes: deps.resultMaxBytes ?? 1024 * 1024,
    heartbeatMs: Math.max(100, Math.floor(ackWaitMs / 3)),
    slotPollMs: deps.slotPollMs ?? 500,
    running,
    packConfig: deps.packConfig ?? (async () => undefined),
    ...(deps.openSecret === undefined ? {} : { openSecret: deps.openSecret }),
    service: deps.service,
    packDir: async (pack) => {
      if (!packDirs.has(pack)) packDirs.set(pack, (await deps.store.packs.get(pack))?.path);
      return packDirs.get(pack);
    },
  };

  const subscriptions = [
    ...onChange(deps.bus, deps.names, ['packs'], () => packDirs.clear()),
    deps.bus.subscribe(deps.names.controlSubject(CANCEL_TOPIC), (_subject, data) => {
      try {
        const { id } = decodeJson<{ id: string }>(data);
        running.get(id)?.abort(new CancelError());
      } catch {
        logger.warn('malformed cancel notice ignored');
      }
    }),
  ];

  const consumers: Consumer[] = [];
  for (const runner of deps.runners) {
    consumers.push(
      await deps.bus.consume(
        {
          stream: deps.names.executionsStream,
          durable: `runner-${runner.name}`,
          filterSubject: deps.names.executionSubject(runner.name),
          concurrency: deps.concurrency ?? 16,
          ackWaitMs,
        },
        async (msg) => {
          try {
            await handleRequest(lifecycle, runner, msg);
          } catch (err) {
            logger.warn({ err, seq: msg.seq, deliveryCount: msg.deliveryCount }, 'execution request not handled; will be redelivered');
            throw err;
          }
        },
      ),
    );
  }
  logger.info({ runners: deps.runners.map((r) => r.name) }, `${deps.service} started`);
  return {
    name: deps.service,
    stop: async () => {
      for (const s of subscriptions) s.unsubscribe();
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
}
