/**
 * In-memory state of the embedded bus: a stream's retained messages, its durables and their
 * delivery bookkeeping. Costs stay O(1) amortised per message:
 *
 * - `Stream.messages` is a Map in seq order (insertion order), so the oldest message is its first
 *   key (max-age sweeps pop from the front) and lookups by seq are direct.
 * - A durable keeps a `cursor` (every seq below it was handed out at least once) and an
 *   `outstanding` map of messages delivered but not finished. A message is finished for a durable
 *   when it is acked, termed or out of deliveries; it leaves the stream when every durable whose
 *   filter selects it has finished it (messages no durable selects wait for max age).
 * - Redeliveries (nak, ack timeout) go to a FIFO `ready` queue served before new messages.
 * - One timer per message in flight (ack wait) or waiting out a nak delay; all unref'd.
 */
import type { StreamConfig } from './bus.ts';
import { EmbeddedMessage, type DeliverySource, type EmbeddedConsumer } from './embedded-consumer.ts';
import type { Journal, JournalMessage } from './embedded-journal.ts';
import type { BusLogger } from './logger.ts';
import { compileSubjectMatcher, type SubjectMatcher } from './subject-match.ts';
import type { NormalizedConsumeOptions, NormalizedStreamConfig } from './validate.ts';

export type StoredMessage = JournalMessage;

export class Stream {
  readonly name: string;
  config: NormalizedStreamConfig;
  #matchers: SubjectMatcher[];
  readonly messages = new Map<number, StoredMessage>();
  /** Highest seq handed out (a publish may still be committing). */
  assignedSeq = 0;
  /** Highest seq appended; publishes become visible in seq order. */
  visibleSeq = 0;
  /** msgId → first publish, in publish (time) order. */
  readonly dedup = new Map<string, { seq: number; ts: number }>();
  /** msgIds dropped from memory whose journal rows still wait for the sweeper. */
  dedupPrunedUnjournaled = 0;
  readonly durables = new Map<string, Durable>();
  readonly journal: Journal | undefined;
  readonly logger: BusLogger;

  constructor(config: NormalizedStreamConfig, journal: Journal | undefined, logger: BusLogger) {
    this.name = config.name;
    this.config = config;
    this.#matchers = config.subjects.map(compileSubjectMatcher);
    this.journal = journal;
    this.logger = logger;
  }

  reconfigure(config: NormalizedStreamConfig): void {
    this.config = config;
    this.#matchers = config.subjects.map(compileSubjectMatcher);
  }

  captures(subject: string): boolean {
    return this.#matchers.some((match) => match(subject));
  }

  /** Seq of the oldest retained message, or the next seq when the stream is empty. */
  firstSeq(): number {
    const first = this.messages.keys().next();
    return first.done === true ? this.visibleSeq + 1 : first.value;
  }

  /** The message is durable: retain it and offer it to the durables. */
  append(msg: StoredMessage): void {
    this.messages.set(msg.seq, msg);
    this.visibleSeq = msg.seq;
    for (const durable of this.durables.values()) durable.pump();
  }

  /** A msgId seen inside the duplicate window, after dropping the ids that left it. */
  seenMsgId(msgId: string, now: number): { seq: number; ts: number } | undefined {
    this.pruneDedup(now);
    return this.dedup.get(msgId);
  }

  pruneDedup(now: number): number {
    const cutoff = now - this.config.duplicateWindowMs;
    let pruned = 0;
    for (const [msgId, entry] of this.dedup) {
      if (entry.ts >= cutoff) break;
      this.dedup.delete(msgId);
      pruned++;
    }
    this.dedupPrunedUnjournaled += pruned;
    return pruned;
  }

  /** A durable finished `seq`; drop the message once no durable still needs it. */
  finished(seq: number): void {
    const msg = this.messages.get(seq);
    if (msg === undefined) return;
    for (const durable of this.durables.values()) {
      if (!durable.isFinished(msg)) return;
    }
    this.messages.delete(seq);
    this.journal?.deleteMessage(this.name, seq, this.durables.keys());
  }

  /** Drops messages older than max age. */
  expire(now: number): void {
    if (this.config.maxAgeMs <= 0) return;
    const cutoff = now - this.config.maxAgeMs;
    let last = 0;
    for (const msg of this.messages.values()) {
      if (msg.ts >= cutoff) break;
      this.messages.delete(msg.seq);
      for (const durable of this.durables.values()) durable.forget(msg.seq);
      last = msg.seq;
    }
    if (last > 0) this.journal?.expireMessages(this.name, last, this.durables.keys());
  }

  close(): void {
    for (const durable of this.durables.values()) durable.close();
  }
}

const INFLIGHT = 0;
const DELAYED = 1;
const READY = 2;

interface Delivery {
  seq: number;
  /** Deliveries so far. */
  count: number;
  /** Which delivery is current; acts from an older delivery of the same message are stale. */
  token: number;
  state: typeof INFLIGHT | typeof DELAYED | typeof READY;
  timer: NodeJS.Timeout | undefined;
}

export interface DurableConfig {
  filterSubject: string | undefined;
  ackWaitMs: number;
  maxDeliver: number;
}

export class Durable implements DeliverySource {
  readonly stream: Stream;
  readonly name: string;
  config: DurableConfig;
  #filter: SubjectMatcher | undefined;
  /** Every seq below the cursor has been delivered at least once (or skipped). */
  cursor: number;
  readonly #outstanding = new Map<number, Delivery>();
  #ready: number[] = [];
  #readyHead = 0;
  /** Restored from the journal: seqs at or past the cursor this durable had already finished. */
  #finishedAhead: Set<number> | undefined;
  /** Restored from the journal: deliveries made before the restart. */
  #priorCounts: Map<number, number> | undefined;
  readonly #consumers: EmbeddedConsumer[] = [];
  #next = 0;
  #tokens = 0;

  constructor(stream: Stream, name: string, config: DurableConfig, cursor: number) {
    this.stream = stream;
    this.name = name;
    this.config = config;
    this.#filter = config.filterSubject === undefined ? undefined : compileSubjectMatcher(config.filterSubject);
    this.cursor = cursor;
  }

  reconfigure(config: DurableConfig): void {
    this.config = config;
    this.#filter = config.filterSubject === undefined ? undefined : compileSubjectMatcher(config.filterSubject);
  }

  restore(state: Map<number, { count: number; done: boolean }>): void {
    for (const [seq, { count, done }] of state) {
      if (done) (this.#finishedAhead ??= new Set()).add(seq);
      else if (count > 0) (this.#priorCounts ??= new Map()).set(seq, count);
    }
  }

  selects(subject: string): boolean {
    return this.#filter === undefined || this.#filter(subject);
  }

  isFinished(msg: StoredMessage): boolean {
    if (!this.selects(msg.subject)) return true;
    if (this.#outstanding.has(msg.seq)) return false;
    if (msg.seq < this.cursor) return true;
    return this.#finishedAhead?.has(msg.seq) ?? false;
  }

  attach(consumer: EmbeddedConsumer): void {
    this.#consumers.push(consumer);
    this.pump();
  }

  detach(consumer: EmbeddedConsumer): void {
    const i = this.#consumers.indexOf(consumer);
    if (i >= 0) this.#consumers.splice(i, 1);
  }

  /** Hands messages to consumers with free slots: redeliveries first, then new messages in order. */
  pump(): void {
    for (;;) {
      const consumer = this.#freeConsumer();
      if (consumer === undefined) return;
      const next = this.#takeReady() ?? this.#takeNew();
      if (next === undefined) return;
      this.#deliver(consumer, next.msg, next.delivery);
    }
  }

  // ---- acts from a delivered message ----

  ack(seq: number): Promise<void> {
    return this.#finish(seq);
  }

  term(seq: number): void {
    this.#finish(seq).catch((err: unknown) => this.stream.logger.warn({ err, seq }, 'embedded bus: term not recorded'));
  }

  nak(seq: number, token: number, delayMs: number): void {
    const delivery = this.#outstanding.get(seq);
    if (delivery === undefined || delivery.token !== token || delivery.state !== INFLIGHT) return;
    this.#redeliver(delivery, delayMs);
  }

  working(seq: number, token: number): void {
    const delivery = this.#outstanding.get(seq);
    if (delivery === undefined || delivery.token !== token || delivery.state !== INFLIGHT) return;
    clearTimeout(delivery.timer);
    delivery.timer = this.#ackTimer(delivery);
  }

  /** The message left the stream (max age). */
  forget(seq: number): void {
    const delivery = this.#outstanding.get(seq);
    if (delivery !== undefined) {
      clearTimeout(delivery.timer);
      this.#outstanding.delete(seq);
    }
    this.#finishedAhead?.delete(seq);
    this.#priorCounts?.delete(seq);
  }

  close(): void {
    for (const delivery of this.#outstanding.values()) clearTimeout(delivery.timer);
  }

  #freeConsumer(): EmbeddedConsumer | undefined {
    const n = this.#consumers.length;
    for (let i = 0; i < n; i++) {
      const consumer = this.#consumers[(this.#next + i) % n] as EmbeddedConsumer;
      if (consumer.hasCapacity()) {
        this.#next = (this.#next + i + 1) % n;
        return consumer;
      }
    }
    return undefined;
  }

  #takeReady(): { msg: StoredMessage; delivery: Delivery } | undefined {
    while (this.#readyHead < this.#ready.length) {
      const seq = this.#ready[this.#readyHead++] as number;
      const delivery = this.#outstanding.get(seq);
      if (delivery === undefined || delivery.state !== READY) continue;
      const msg = this.stream.messages.get(seq);
      if (msg === undefined) {
        this.#outstanding.delete(seq);
        continue;
      }
      this.#compactReady();
      return { msg, delivery };
    }
    if (this.#readyHead > 0) {
      this.#ready = [];
      this.#readyHead = 0;
    }
    return undefined;
  }

  #compactReady(): void {
    if (this.#readyHead > 1024 && this.#readyHead * 2 > this.#ready.length) {
      this.#ready = this.#ready.slice(this.#readyHead);
      this.#readyHead = 0;
    }
  }

  #takeNew(): { msg: StoredMessage; delivery: Delivery } | undefined {
    const messages = this.stream.messages;
    if (messages.size === 0) {
      this.cursor = Math.max(this.cursor, this.stream.firstSeq());
      return undefined;
    }
    // Seqs still committing are past visibleSeq, so the cursor never skips them.
    const last = this.stream.visibleSeq;
    while (this.cursor <= last) {
      const seq = this.cursor++;
      const msg = messages.get(seq);
      if (msg === undefined || !this.selects(msg.subject)) continue;
      if (this.#finishedAhead?.delete(seq) === true) {
        if (this.#finishedAhead.size === 0) this.#finishedAhead = undefined;
        this.stream.finished(seq);
        continue;
      }
      const prior = this.#priorCounts?.get(seq) ?? 0;
      if (prior > 0) this.#priorCounts?.delete(seq);
      const delivery: Delivery = { seq, count: prior, token: 0, state: READY, timer: undefined };
      this.#outstanding.set(seq, delivery);
      return { msg, delivery };
    }
    return undefined;
  }

  #deliver(consumer: EmbeddedConsumer, msg: StoredMessage, delivery: Delivery): void {
    delivery.count += 1;
    delivery.token = ++this.#tokens;
    delivery.state = INFLIGHT;
    delivery.timer = this.#ackTimer(delivery);
    this.stream.journal?.recordDelivery(this.stream.name, this.name, msg.seq, delivery.count);
    consumer.run(new EmbeddedMessage(this, msg, delivery.count, delivery.token));
  }

  #ackTimer(delivery: Delivery): NodeJS.Timeout {
    const { seq, token } = delivery;
    const timer = setTimeout(() => {
      const current = this.#outstanding.get(seq);
      if (current === undefined || current.token !== token || current.state !== INFLIGHT) return;
      current.timer = undefined;
      this.#redeliver(current, 0);
    }, this.config.ackWaitMs);
    timer.unref();
    return timer;
  }

  #redeliver(delivery: Delivery, delayMs: number): void {
    clearTimeout(delivery.timer);
    delivery.timer = undefined;
    if (this.config.maxDeliver > 0 && delivery.count >= this.config.maxDeliver) {
      this.#finish(delivery.seq).catch((err: unknown) =>
        this.stream.logger.warn({ err, seq: delivery.seq }, 'embedded bus: max deliveries not recorded'),
      );
      return;
    }
    if (delayMs > 0) {
      delivery.state = DELAYED;
      const timer = setTimeout(() => {
        if (this.#outstanding.get(delivery.seq) !== delivery || delivery.state !== DELAYED) return;
        delivery.timer = undefined;
        this.#makeReady(delivery);
      }, delayMs);
      timer.unref();
      delivery.timer = timer;
      return;
    }
    this.#makeReady(delivery);
  }

  #makeReady(delivery: Delivery): void {
    delivery.state = READY;
    this.#ready.push(delivery.seq);
    this.pump();
  }

  #finish(seq: number): Promise<void> {
    const delivery = this.#outstanding.get(seq);
    if (delivery === undefined) return Promise.resolve();
    clearTimeout(delivery.timer);
    this.#outstanding.delete(seq);
    const recorded = this.stream.journal?.markDone(this.stream.name, this.name, seq);
    this.stream.finished(seq);
    return recorded ?? Promise.resolve();
  }
}

export function durableConfigOf(options: NormalizedConsumeOptions): DurableConfig {
  return { filterSubject: options.filterSubject, ackWaitMs: options.ackWaitMs, maxDeliver: options.maxDeliver };
}

export function streamConfigOf(config: NormalizedStreamConfig): StreamConfig {
  return {
    name: config.name,
    subjects: [...config.subjects],
    maxAgeMs: config.maxAgeMs,
    duplicateWindowMs: config.duplicateWindowMs,
  };
}
