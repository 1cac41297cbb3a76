/**
 * The consumer side of the embedded bus: the message object a handler sees and the consumer
 * that runs up to `concurrency` handlers, acking on success and nak-ing (after `nakDelayMs`) on
 * a throw. Its durable (embedded-stream.ts) is reached through `DeliverySource` only.
 */
import type { BusMessage } from './bus.ts';
import { decodeJson, decodeText } from './bus.ts';
import type { JournalMessage } from './embedded-journal.ts';
import type { BusLogger } from './logger.ts';
import { nakDelay, type NormalizedConsumeOptions } from './validate.ts';

/** What a delivered message and its consumer need from the durable that handed it out. */
export interface DeliverySource {
  ack(seq: number): Promise<void>;
  nak(seq: number, token: number, delayMs: number): void;
  working(seq: number, token: number): void;
  term(seq: number): void;
  /** Offer more messages (a slot came free). */
  pump(): void;
  detach(consumer: EmbeddedConsumer): void;
}

export class EmbeddedMessage implements BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  readonly seq: number;
  readonly deliveryCount: number;
  readonly #durable: DeliverySource;
  readonly #token: number;
  settled = false;

  constructor(durable: DeliverySource, msg: JournalMessage, deliveryCount: number, token: number) {
    this.subject = msg.subject;
    this.data = msg.data;
    this.headers = msg.headers;
    this.seq = msg.seq;
    this.deliveryCount = deliveryCount;
    this.#durable = durable;
    this.#token = token;
  }

  json<T = unknown>(): T {
    return decodeJson<T>(this.data);
  }

  string(): string {
    return decodeText(this.data);
  }

  ack(): Promise<void> {
    if (this.settled) return Promise.resolve();
    this.settled = true;
    return this.#durable.ack(this.seq);
  }

  nak(delayMs?: number): void {
    if (this.settled) return;
    this.settled = true;
    this.#durable.nak(this.seq, this.#token, delayMs ?? 0);
  }

  working(): void {
    if (!this.settled) this.#durable.working(this.seq, this.#token);
  }

  term(): void {
    if (this.settled) return;
    this.settled = true;
    this.#durable.term(this.seq);
  }
}

export class EmbeddedConsumer {
  readonly durable: DeliverySource;
  readonly #options: NormalizedConsumeOptions;
  readonly #handler: (msg: BusMessage) => Promise<void>;
  readonly #logger: BusLogger;
  #active = 0;
  #stopping = false;
  #idle: (() => void) | undefined;
  #stopped: Promise<void> | undefined;

  constructor(
    durable: DeliverySource,
    options: NormalizedConsumeOptions,
    handler: (msg: BusMessage) => Promise<void>,
    logger: BusLogger,
  ) {
    this.durable = durable;
    this.#options = options;
    this.#handler = handler;
    this.#logger = logger;
  }

  hasCapacity(): boolean {
    return !this.#stopping && this.#active < this.#options.concurrency;
  }

  run(msg: EmbeddedMessage): void {
    this.#active++;
    // Never call a handler from inside pump(): it runs on the next microtask.
    queueMicrotask(() => void this.#handle(msg));
  }

  stop(): Promise<void> {
    if (this.#stopped !== undefined) return this.#stopped;
    this.#stopping = true;
    this.durable.detach(this);
    this.#stopped =
      this.#active === 0
        ? Promise.resolve()
        : new Promise<void>((resolve) => {
            this.#idle = resolve;
          });
    return this.#stopped;
  }

  async #handle(msg: EmbeddedMessage): Promise<void> {
    try {
      await this.#handler(msg);
      if (!msg.settled) {
        msg.ack().catch((err: unknown) => this.#logger.warn({ err, seq: msg.seq }, 'embedded bus: ack not recorded'));
      }
    } catch (err) {
      if (!msg.settled) {
        const delayMs = nakDelay(this.#options, msg.deliveryCount);
        this.#logger.debug({ err, seq: msg.seq, deliveryCount: msg.deliveryCount, delayMs }, 'embedded bus: handler failed, nak');
        msg.nak(delayMs);
      }
    } finally {
      this.#active--;
      if (this.#stopping) {
        if (this.#active === 0) this.#idle?.();
      } else {
        this.durable.pump();
      }
    }
  }
}
