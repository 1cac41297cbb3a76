/**
 * One `consume()` on NATS: a durable pull consumer drained by a loop that asks the server for
 * more only when a handler slot is free, so a process never holds messages another replica
 * could be handling. Ack/nak/term/working map one to one onto JetStream acks.
 */
import { UnavailableError } from '@reflex/model';
import {
  AckPolicy,
  DeliverPolicy,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import type { BusMessage, Consumer, MessageHandler } from './bus.ts';
import { decodeJson, decodeText } from './bus.ts';
import type { BusLogger } from './logger.ts';
import { isReservedHeader, nakDelay, type NormalizedConsumeOptions } from './validate.ts';

export function consumerConfigOf(o: NormalizedConsumeOptions): Partial<ConsumerConfig> {
  return {
    durable_name: o.durable,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(o.ackWaitMs),
    max_deliver: o.maxDeliver > 0 ? o.maxDeliver : -1,
    // Absent, not '': the client puts the filter into the create subject.
    ...(o.filterSubject === undefined ? {} : { filter_subject: o.filterSubject }),
  };
}

/** How long `consume()` pull requests live on the server before they are renewed. */
const PULL_EXPIRES_MS = 10_000;

export class NatsConsumer implements Consumer {
  readonly #nc: NatsConnection;
  readonly #jsm: JetStreamManager;
  readonly #js: JetStreamClient;
  readonly #o: NormalizedConsumeOptions;
  readonly #config: Partial<ConsumerConfig>;
  readonly #handler: MessageHandler;
  readonly #apiTimeoutMs: number;
  readonly #logger: BusLogger;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> = Promise.resolve();
  #active = 0;
  #stopping = false;
  #onStop: () => void = () => undefined;
  readonly #stopSignal = new Promise<void>((resolve) => {
    this.#onStop = resolve;
  });
  #wake: (() => void) | undefined;
  #idle: (() => void) | undefined;
  #stopped: Promise<void> | undefined;

  constructor(
    nc: NatsConnection,
    jsm: JetStreamManager,
    js: JetStreamClient,
    o: NormalizedConsumeOptions,
    config: Partial<ConsumerConfig>,
    handler: MessageHandler,
    apiTimeoutMs: number,
    logger: BusLogger,
  ) {
    this.#nc = nc;
    this.#jsm = jsm;
    this.#js = js;
    this.#o = o;
    this.#config = config;
    this.#handler = handler;
    this.#apiTimeoutMs = apiTimeoutMs;
    this.#logger = logger;
  }

  async start(): Promise<void> {
    this.#messages = await this.#open();
    this.#loop = this.#run(this.#messages);
  }

  stop(): Promise<void> {
    this.#stopped ??= this.#stop();
    return this.#stopped;
  }

  async #stop(): Promise<void> {
    this.#stopping = true;
    this.#onStop();
    this.#wake?.();
    // Messages already pulled but not started are nak'd by the loop as it drains.
    this.#messages?.stop();
    await this.#loop;
    if (this.#active > 0) {
      await new Promise<void>((resolve) => {
        this.#idle = resolve;
      });
    }
  }

  async #open(): Promise<ConsumerMessages> {
    const pull = await this.#js.consumers.get(this.#o.stream, this.#o.durable);
    const messages = await pull.consume({ max_messages: this.#o.concurrency, expires: PULL_EXPIRES_MS });
    void this.#watch(messages);
    return messages;
  }

  /** Pulls until stopped; if a pull ever ends on its own (consumer lost, server gone), reopens it. */
  async #run(first: ConsumerMessages): Promise<void> {
    let messages: ConsumerMessages | undefined = first;
    let failures = 0;
    while (!this.#stopping && !this.#nc.isClosed()) {
      if (messages === undefined) {
        await Promise.race([sleep(Math.min(250 * failures, 5000)), this.#stopSignal]);
        if (this.#stopping || this.#nc.isClosed()) return;
        try {
          await this.#recreate();
          messages = await this.#open();
          this.#messages = messages;
          if (this.#stopping) messages.stop();
        } catch (err) {
          failures++;
          this.#logger.warn({ err, stream: this.#o.stream, durable: this.#o.durable }, 'nats bus: cannot resume pulling');
          continue;
        }
      }
      try {
        for await (const m of messages) {
          failures = 0;
          if (this.#stopping) {
            m.nak();
            continue;
          }
          this.#launch(m);
          // Let the iterator send its next pull only once a handler slot is free.
          while (this.#active >= this.#o.concurrency && !this.#stopping) {
            await new Promise<void>((resolve) => {
              this.#wake = resolve;
            });
            this.#wake = undefined;
          }
        }
      } catch (err) {
        this.#logger.warn({ err, stream: this.#o.stream, durable: this.#o.durable }, 'nats bus: pull failed');
      }
      messages = undefined;
      failures++;
    }
  }

  #launch(m: JsMsg): void {
    this.#active++;
    const msg = new NatsMessage(m, this.#apiTimeoutMs);
    void (async () => {
      try {
        await this.#handler(msg);
        if (!msg.settled) {
          msg.settled = true;
          m.ack();
        }
      } catch (err) {
        if (!msg.settled) {
          const delayMs = nakDelay(this.#o, msg.deliveryCount);
          this.#logger.debug({ err, seq: msg.seq, deliveryCount: msg.deliveryCount, delayMs }, 'nats bus: handler failed, nak');
          try {
            msg.nak(delayMs);
          } catch (nakErr) {
            // Connection closed under us: the server redelivers after ack_wait anyway.
            this.#logger.debug({ err: nakErr, seq: msg.seq }, 'nats bus: nak not sent');
          }
        }
      } finally {
        this.#active--;
        this.#wake?.();
        if (this.#active === 0) this.#idle?.();
      }
    })();
  }

  /** The consumer can vanish (server restarted without its store, someone deleted it): put it back. */
  async #watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'consumer_not_found' || status.type === 'consumer_deleted') {
        if (this.#stopping) return;
        await this.#recreate().catch((err: unknown) =>
          this.#logger.warn({ err, stream: this.#o.stream, durable: this.#o.durable }, 'nats bus: cannot recreate consumer'),
        );
      }
    }
  }

  async #recreate(): Promise<void> {
    await this.#jsm.consumers.add(this.#o.stream, this.#config);
  }
}

class NatsMessage implements BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly seq: number;
  readonly deliveryCount: number;
  readonly #m: JsMsg;
  readonly #timeoutMs: number;
  settled = false;

  constructor(m: JsMsg, timeoutMs: number) {
    this.#m = m;
    this.#timeoutMs = timeoutMs;
    this.subject = m.subject;
    this.data = m.data;
    this.seq = m.seq;
    this.deliveryCount = m.info.deliveryCount;
    const h: Record<string, string> = {};
    if (m.headers !== undefined) {
      for (const [name, values] of m.headers) {
        if (!isReservedHeader(name)) h[name] = values.join(',');
      }
    }
    this.headers = Object.freeze(h);
  }

  json<T = unknown>(): T {
    return decodeJson<T>(this.data);
  }

  string(): string {
    return decodeText(this.data);
  }

  /** Resolves once the server confirmed the ack. */
  async ack(): Promise<void> {
    if (this.settled) return;
    this.settled = true;
    try {
      await this.#m.ackAck({ timeout: this.#timeoutMs });
    } catch (err) {
      throw new UnavailableError(`ack of seq ${this.seq} not confirmed`, { cause: err });
    }
  }

  nak(delayMs?: number): void {
    if (this.settled) return;
    this.settled = true;
    this.#m.nak(delayMs !== undefined && delayMs > 0 ? delayMs : undefined);
  }

  working(): void {
    if (!this.settled) this.#m.working();
  }

  term(): void {
    if (this.settled) return;
    this.settled = true;
    this.#m.term();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
