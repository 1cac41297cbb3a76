/**
 * The chat notifier: consumes executions of chat actions exactly the way the action runner consumes
 * its own (it is a worker with one runner, `chat`). A message is never posted twice for one
 * execution: the worker claims each execution with a compare-and-set before delivering, and a
 * notifier that died mid-delivery leaves its execution failed as abandoned, not re-posted.
 */
import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import {
  createChatAdapters,
  createChatRunner,
  Deliverer,
  type ChatConfig,
  type ChatSink,
  type DeliveryReceipt,
  type RetryOptions,
  type ThreadReceipts,
} from '@reflex/chat';
import type { BusNames, JsonObject } from '@reflex/model';
import type { ServiceHandle } from '@reflex/runtime';
import type { Store } from '@reflex/store';
import { startWorker } from '@reflex/worker';

export interface ChatNotifierDeps {
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
  config: ChatConfig;
  /** How hard to try before a message becomes a dead letter (defaults: 5 attempts within 60 s). */
  retry?: Partial<RetryOptions>;
  /** Where the console target writes (the launcher passes stdout). */
  consoleSink: ChatSink;
  /** Deliveries at once in this process. Default 16. */
  concurrency?: number;
  ackWaitMs?: number;
}

const THREAD_SCOPE = 'chat.threads';
/** A thread's first message is remembered this long for updates. */
const THREAD_TTL_MS = 30 * 24 * 3600 * 1000;

function storeThreads(store: Store): ThreadReceipts {
  const name = (target: string, threadKey: string): string => `${target}\u0000${threadKey}`;
  return {
    get: async (target, threadKey) => (await store.keys.get(THREAD_SCOPE, name(target, threadKey)))?.value as DeliveryReceipt | undefined,
    put: async (target, threadKey, receipt) => {
      await store.keys.put({
        scope: THREAD_SCOPE,
        name: name(target, threadKey),
        value: receipt as unknown as JsonObject,
        expiresAt: new Date(Date.now() + THREAD_TTL_MS).toISOString(),
      });
    },
  };
}

export async function startChatNotifier(deps: ChatNotifierDeps): Promise<ServiceHandle> {
  const logger = deps.logger.child({ service: 'chat-notifier' });
  const deliverer = new Deliverer({
    config: deps.config,
    ...(deps.retry === undefined ? {} : { retry: deps.retry }),
    adapters: createChatAdapters({ consoleSink: deps.consoleSink }),
    onEvent: (event) => {
      if (event.type === 'delivered') logger.debug(event, 'chat message delivered');
      else logger.warn(event, event.type === 'circuit-changed' ? 'chat target circuit changed' : 'chat delivery attempt failed');
    },
  });
  return await startWorker({
    service: 'chat-notifier',
    bus: deps.bus,
    store: deps.store,
    names: deps.names,
    logger: deps.logger,
    runners: [createChatRunner({ deliverer, threads: storeThreads(deps.store) })],
    ...(deps.concurrency === undefined ? {} : { concurrency: deps.concurrency }),
    ...(deps.ackWaitMs === undefined ? {} : { ackWaitMs: deps.ackWaitMs }),
  });
}
