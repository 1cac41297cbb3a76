/**
 * The Bus on NATS JetStream (@nats-io/transport-node + @nats-io/jetstream v3; works with
 * nats-server 2.9+, so no 2.10-only features).
 *
 * - Streams: file storage, limits retention, `max_age`, `duplicate_window`; `ensureStream` adds
 *   the stream and updates it when its config differs.
 * - Consumers: durable pull consumers (explicit ack, `ack_wait`, `max_deliver`, one
 *   `filter_subject`, deliver all), created or updated on every `consume`, so processes sharing a
 *   durable name share its work. Messages are pulled with `consume()` asking for at most
 *   `concurrency` messages, and the loop only asks for more when a handler slot is free: a process
 *   never hoards messages another replica could be handling.
 * - The connection reconnects forever; `healthy()` follows it, and publishing while
 *   disconnected fails at once with UnavailableError instead of queueing.
 */
import { NotFoundError, ReflexError, UnavailableError, ValidationError } from '@reflex/model';
import {
  DiscardPolicy,
  JetStreamApiError,
  jetstream,
  jetstreamManager,
  RetentionPolicy,
  StorageType,
  type JetStreamClient,
  type JetStreamManager,
  type JetStreamPublishOptions,
  type StreamConfig as NatsStreamConfig,
} from '@nats-io/jetstream';
import { connect, headers as natsHeaders, nanos, type NatsConnection } from '@nats-io/transport-node';
import type {
  Bus,
  ConsumeOptions,
  Consumer,
  MessageHandler,
  PublishAck,
  PublishOptions,
  StreamConfig,
  Subscription,
} from './bus.ts';
import { silentLogger, type BusLogger } from './logger.ts';
import { consumerConfigOf, NatsConsumer } from './nats-consumer.ts';
import {
  checkHeaders,
  checkPublishSubject,
  checkSubscribeSubject,
  DEFAULT_PUBLISH_TIMEOUT_MS,
  normalizeConsumeOptions,
  normalizeStreamConfig,
} from './validate.ts';

export interface NatsBusOptions {
  servers: string | string[];
  /** Connection name shown by the server's monitoring. */
  name?: string;
  user?: string;
  pass?: string;
  token?: string;
  /** Fail `createNatsBus` when no server answers within this time. Default 5000 ms. */
  connectTimeoutMs?: number;
  /** Pause between reconnect attempts (it never gives up). Default 1000 ms. */
  reconnectWaitMs?: number;
  /** Client pings; a server silent for 3 pings is treated as gone. Default 10 000 ms. */
  pingIntervalMs?: number;
  /** JetStream API requests (stream/consumer create, ack confirmation). Default 5000 ms. */
  apiTimeoutMs?: number;
  logger?: BusLogger;
}

const STREAM_NAME_IN_USE = 10058;
const STREAM_SUBJECTS_OVERLAP = 10065;

export async function createNatsBus(options: NatsBusOptions): Promise<Bus> {
  const logger = options.logger ?? silentLogger;
  let nc: NatsConnection;
  try {
    nc = await connect({
      servers: options.servers,
      ...(options.name === undefined ? {} : { name: options.name }),
      ...(options.user === undefined ? {} : { user: options.user }),
      ...(options.pass === undefined ? {} : { pass: options.pass }),
      ...(options.token === undefined ? {} : { token: options.token }),
      timeout: options.connectTimeoutMs ?? 5000,
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? 1000,
      pingInterval: options.pingIntervalMs ?? 10_000,
      maxPingOut: 3,
    });
  } catch (err) {
    throw new UnavailableError(`cannot connect to NATS at ${String(options.servers)}`, { cause: err });
  }
  const apiTimeoutMs = options.apiTimeoutMs ?? 5000;
  try {
    const jsm = await jetstreamManager(nc, { timeout: apiTimeoutMs });
    return new NatsBus(nc, jsm, jetstream(nc, { timeout: apiTimeoutMs }), apiTimeoutMs, logger);
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw new UnavailableError('NATS is reachable but JetStream is not available', { cause: err });
  }
}

class NatsBus implements Bus {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #apiTimeoutMs: number;
  readonly #logger: BusLogger;
  readonly #consumers = new Set<NatsConsumer>();
  #connected = true;
  #closing: Promise<void> | undefined;

  constructor(nc: NatsConnection, jsm: JetStreamManager, js: JetStreamClient, apiTimeoutMs: number, logger: BusLogger) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = js;
    this.#apiTimeoutMs = apiTimeoutMs;
    this.#logger = logger;
    void this.#watchStatus();
  }

  async ensureStream(config: StreamConfig): Promise<void> {
    this.#checkOpen();
    const c = normalizeStreamConfig(config);
    const wanted: Partial<NatsStreamConfig> & { name: string } = {
      name: c.name,
      subjects: c.subjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      max_age: nanos(c.maxAgeMs),
      duplicate_window: nanos(c.duplicateWindowMs),
    };
    try {
      await this.#jsm.streams.add(wanted);
      return;
    } catch (err) {
      if (!(err instanceof JetStreamApiError) || err.code !== STREAM_NAME_IN_USE) throw this.#apiError(err, c.name, `stream '${c.name}'`);
    }
    try {
      const { config: current } = await this.#jsm.streams.info(c.name);
      const same =
        current.max_age === wanted.max_age &&
        current.duplicate_window === wanted.duplicate_window &&
        JSON.stringify([...(current.subjects ?? [])].sort()) === JSON.stringify([...c.subjects].sort());
      if (same) return;
      await this.#jsm.streams.update(c.name, {
        subjects: c.subjects,
        max_age: wanted.max_age,
        duplicate_window: wanted.duplicate_window,
      });
    } catch (err) {
      throw this.#apiError(err, c.name, `stream '${c.name}'`);
    }
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    this.#checkOpen();
    checkPublishSubject(subject);
    if (options.headers !== undefined) checkHeaders(options.headers);
    if (!this.#connected) throw new UnavailableError('not connected to NATS');
    const opts: Partial<JetStreamPublishOptions> = { timeout: options.timeoutMs ?? DEFAULT_PUBLISH_TIMEOUT_MS };
    if (options.msgId !== undefined) opts.msgID = options.msgId;
    if (options.headers !== undefined && Object.keys(options.headers).length > 0) {
      const h = natsHeaders();
      for (const [name, value] of Object.entries(options.headers)) h.set(name, value);
      opts.headers = h;
    }
    try {
      const ack = await this.#js.publish(subject, data, opts);
      return { stream: ack.stream, seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      throw new UnavailableError(`publish to '${subject}' failed: ${describe(err)}`, { cause: err });
    }
  }

  async consume(options: ConsumeOptions, handler: MessageHandler): Promise<Consumer> {
    this.#checkOpen();
    const o = normalizeConsumeOptions(options);
    const config = consumerConfigOf(o);
    try {
      await this.#jsm.consumers.add(o.stream, config);
    } catch (err) {
      throw this.#apiError(err, o.stream, `consumer '${o.durable}' of stream '${o.stream}'`);
    }
    const consumer = new NatsConsumer(this.#nc, this.#jsm, this.#js, o, config, handler, this.#apiTimeoutMs, this.#logger);
    try {
      await consumer.start();
    } catch (err) {
      throw this.#apiError(err, o.stream, `consumer '${o.durable}' of stream '${o.stream}'`);
    }
    this.#consumers.add(consumer);
    return {
      stop: async () => {
        await consumer.stop();
        this.#consumers.delete(consumer);
      },
    };
  }

  async notify(subject: string, data: Uint8Array): Promise<void> {
    this.#checkOpen();
    checkPublishSubject(subject);
    try {
      this.#nc.publish(subject, data);
    } catch (err) {
      throw new UnavailableError(`notify on '${subject}' failed: ${describe(err)}`, { cause: err });
    }
  }

  subscribe(subject: string, handler: (subject: string, data: Uint8Array) => void): Subscription {
    this.#checkOpen();
    checkSubscribeSubject(subject);
    const sub = this.#nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err !== null) {
          this.#logger.warn({ err, subject }, 'nats bus: subscription failed');
          return;
        }
        try {
          handler(msg.subject, msg.data);
        } catch (handlerErr) {
          this.#logger.warn({ err: handlerErr, subject: msg.subject }, 'nats bus: subscriber threw');
        }
      },
    });
    return { unsubscribe: () => sub.unsubscribe() };
  }

  healthy(): boolean {
    return this.#closing === undefined && this.#connected && !this.#nc.isClosed();
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    await Promise.all([...this.#consumers].map((consumer) => consumer.stop()));
    this.#consumers.clear();
    if (!this.#connected) {
      // Nothing can be flushed to a server that is gone; draining would wait for a reconnect.
      await this.#nc.close().catch(() => undefined);
      return;
    }
    try {
      await this.#nc.drain();
    } catch (err) {
      // Draining needs the server; when it is gone there is nothing left to flush.
      this.#logger.debug({ err }, 'nats bus: drain failed, closing');
      await this.#nc.close().catch(() => undefined);
    }
  }

  async #watchStatus(): Promise<void> {
    for await (const status of this.#nc.status()) {
      switch (status.type) {
        case 'disconnect':
          this.#connected = false;
          this.#logger.warn({ server: status.server }, 'nats bus: disconnected');
          break;
        case 'reconnect':
          this.#connected = true;
          this.#logger.info({ server: status.server }, 'nats bus: reconnected');
          break;
        case 'close':
          this.#connected = false;
          break;
        case 'error':
          this.#logger.warn({ err: status.error }, 'nats bus: server error');
          break;
        default:
          break;
      }
    }
  }

  #checkOpen(): void {
    if (this.#closing !== undefined || this.#nc.isClosed()) throw new UnavailableError('the NATS bus is closed');
  }

  /** JetStream API failures: known refusals become typed errors, the rest means NATS cannot serve us. */
  #apiError(err: unknown, stream: string, what: string): Error {
    if (err instanceof ReflexError) return err;
    if (err instanceof JetStreamApiError) {
      if (err.code === STREAM_SUBJECTS_OVERLAP) {
        return new ReflexError('STREAM_SUBJECTS_OVERLAP', `${what}: ${err.message}`, { cause: err });
      }
      if (err.status === 404 && /stream/i.test(err.message)) {
        return Object.assign(new NotFoundError('stream', stream), { cause: err });
      }
      if (err.status === 400) return new ValidationError(`${what}: ${err.message}`, [], { cause: err });
    }
    return new UnavailableError(`${what}: ${describe(err)}`, { cause: err });
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
