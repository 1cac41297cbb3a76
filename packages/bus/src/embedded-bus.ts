/**
 * The embedded Bus: the same semantics as JetStream inside one process, for `reflex start`.
 * Without `path` everything lives in memory; with `path` streams, unfinished messages, durables
 * and their delivery state are journaled to SQLite (see embedded-journal.ts), so what was not
 * acked is delivered again after a restart. State and dispatch live in embedded-stream.ts.
 *
 * Differences from NATS worth knowing: a message leaves the stream once every durable that
 * selects it has finished it (NATS keeps it until max age), so a durable created later starts at
 * the oldest retained message; `PublishOptions.timeoutMs` is not used (a local commit either
 * succeeds or fails at once).
 */
import { ConflictError, NotFoundError, UnavailableError, ValidationError } from '@reflex/model';
import type {
  Bus,
  BusMessage,
  ConsumeOptions,
  Consumer,
  PublishAck,
  PublishOptions,
  StreamConfig,
  Subscription,
} from './bus.ts';
import { openJournal, type Journal, type JournalStream } from './embedded-journal.ts';
import { EmbeddedConsumer } from './embedded-consumer.ts';
import { Durable, durableConfigOf, Stream, type DurableConfig } from './embedded-stream.ts';
import { silentLogger, type BusLogger } from './logger.ts';
import { compileSubjectMatcher, subjectsOverlap, type SubjectMatcher } from './subject-match.ts';
import {
  checkHeaders,
  checkPublishSubject,
  checkSubscribeSubject,
  filterFitsStream,
  normalizeConsumeOptions,
  normalizeStreamConfig,
} from './validate.ts';

export interface EmbeddedBusOptions {
  /** SQLite file that makes the bus survive a restart. Absent: memory only. */
  path?: string;
  logger?: BusLogger;
  /** How often aged-out messages and msgIds past their duplicate window are dropped. Default 1000 ms. */
  sweepIntervalMs?: number;
}

export async function createEmbeddedBus(options: EmbeddedBusOptions = {}): Promise<Bus> {
  const logger = options.logger ?? silentLogger;
  const journal = options.path === undefined ? undefined : await openJournal(options.path, logger);
  const bus = new EmbeddedBus(journal, logger, options.sweepIntervalMs ?? 1000);
  if (journal !== undefined) bus.restore(journal.load());
  return bus;
}

interface LocalSubscription {
  match: SubjectMatcher;
  handler: (subject: string, data: Uint8Array) => void;
}

const ROUTE_CACHE_LIMIT = 10_000;

class EmbeddedBus implements Bus {
  readonly #journal: Journal | undefined;
  readonly #logger: BusLogger;
  readonly #streams = new Map<string, Stream>();
  /** subject → capturing stream (null: none), cleared whenever a stream changes. */
  readonly #routes = new Map<string, Stream | null>();
  readonly #consumers = new Set<EmbeddedConsumer>();
  readonly #subscriptions = new Set<LocalSubscription>();
  readonly #sweeper: NodeJS.Timeout;
  #closing: Promise<void> | undefined;

  constructor(journal: Journal | undefined, logger: BusLogger, sweepIntervalMs: number) {
    this.#journal = journal;
    this.#logger = logger;
    this.#sweeper = setInterval(() => this.#sweep(), sweepIntervalMs);
    this.#sweeper.unref();
  }

  restore(streams: JournalStream[]): void {
    for (const saved of streams) {
      const stream = new Stream(normalizeStreamConfig(JSON.parse(saved.config) as StreamConfig), this.#journal, this.#logger);
      const lastSeq = Math.max(saved.lastSeq, saved.messages.at(-1)?.seq ?? 0);
      for (const msg of saved.messages) stream.messages.set(msg.seq, msg);
      stream.assignedSeq = lastSeq;
      stream.visibleSeq = lastSeq;
      for (const { msgId, seq, ts } of saved.dedup) stream.dedup.set(msgId, { seq, ts });
      for (const savedDurable of saved.durables) {
        const config = JSON.parse(savedDurable.config) as DurableConfig;
        const durable = new Durable(stream, savedDurable.name, config, stream.firstSeq());
        durable.restore(savedDurable.state);
        stream.durables.set(savedDurable.name, durable);
      }
      this.#streams.set(stream.name, stream);
    }
    this.#sweep();
  }

  async ensureStream(config: StreamConfig): Promise<void> {
    this.#checkOpen();
    const normalized = normalizeStreamConfig(config);
    for (const other of this.#streams.values()) {
      if (other.name === normalized.name) continue;
      for (const mine of normalized.subjects) {
        const clash = other.config.subjects.find((theirs) => subjectsOverlap(mine, theirs));
        if (clash !== undefined) {
          throw new ConflictError(
            `stream '${normalized.name}' subject '${mine}' overlaps '${clash}' of stream '${other.name}'`,
            'STREAM_SUBJECTS_OVERLAP',
          );
        }
      }
    }
    const existing = this.#streams.get(normalized.name);
    if (existing !== undefined) {
      if (JSON.stringify(existing.config) === JSON.stringify(normalized)) return;
      existing.reconfigure(normalized);
    } else {
      this.#streams.set(normalized.name, new Stream(normalized, this.#journal, this.#logger));
    }
    this.#routes.clear();
    await this.#journal?.putStream(normalized.name, JSON.stringify(normalized));
  }

  async publish(subject: string, data: Uint8Array, options: PublishOptions = {}): Promise<PublishAck> {
    this.#checkOpen();
    checkPublishSubject(subject);
    const headers = options.headers ?? {};
    checkHeaders(headers);
    const stream = this.#route(subject);
    if (stream === undefined) throw new UnavailableError(`no stream captures subject '${subject}'`);
    const now = Date.now();
    const { msgId } = options;
    if (msgId !== undefined) {
      const seen = stream.seenMsgId(msgId, now);
      if (seen !== undefined) {
        // The original may still be committing: answer once it is durable.
        await this.#journal?.barrier();
        return { stream: stream.name, seq: seen.seq, duplicate: true };
      }
    }
    const seq = ++stream.assignedSeq;
    if (msgId !== undefined) stream.dedup.set(msgId, { seq, ts: now });
    // Copy: the caller may reuse its buffer, and NATS would have copied it onto the wire.
    const msg = { seq, subject, data: data.slice(), headers: Object.freeze({ ...headers }), ts: now };
    if (this.#journal === undefined) {
      stream.append(msg);
    } else {
      try {
        await this.#journal.appendMessage(stream.name, msg, msgId, () => stream.append(msg));
      } catch (err) {
        if (msgId !== undefined && stream.dedup.get(msgId)?.seq === seq) stream.dedup.delete(msgId);
        throw err;
      }
    }
    return { stream: stream.name, seq, duplicate: false };
  }

  async consume(options: ConsumeOptions, handler: (msg: BusMessage) => Promise<void>): Promise<Consumer> {
    this.#checkOpen();
    const normalized = normalizeConsumeOptions(options);
    const stream = this.#streams.get(normalized.stream);
    if (stream === undefined) throw new NotFoundError('stream', normalized.stream);
    if (normalized.filterSubject !== undefined && !filterFitsStream(normalized.filterSubject, stream.config.subjects)) {
      throw new ValidationError(`filter subject '${normalized.filterSubject}' is outside stream '${stream.name}'`, [
        { field: 'filterSubject', message: `must select subjects of ${stream.config.subjects.join(', ')}` },
      ]);
    }
    const config = durableConfigOf(normalized);
    let durable = stream.durables.get(normalized.durable);
    if (durable === undefined) {
      durable = new Durable(stream, normalized.durable, config, stream.firstSeq());
      stream.durables.set(durable.name, durable);
      await this.#journal?.putDurable(stream.name, durable.name, JSON.stringify(config));
    } else if (JSON.stringify(durable.config) !== JSON.stringify(config)) {
      durable.reconfigure(config);
      await this.#journal?.putDurable(stream.name, durable.name, JSON.stringify(config));
    }
    this.#checkOpen();
    const consumer = new EmbeddedConsumer(durable, normalized, handler, this.#logger);
    this.#consumers.add(consumer);
    durable.attach(consumer);
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
    for (const sub of this.#subscriptions) {
      if (!sub.match(subject)) continue;
      const copy = data.slice();
      queueMicrotask(() => {
        if (!this.#subscriptions.has(sub)) return;
        try {
          sub.handler(subject, copy);
        } catch (err) {
          this.#logger.warn({ err, subject }, 'embedded bus: subscriber threw');
        }
      });
    }
  }

  subscribe(subject: string, handler: (subject: string, data: Uint8Array) => void): Subscription {
    this.#checkOpen();
    checkSubscribeSubject(subject);
    const sub: LocalSubscription = { match: compileSubjectMatcher(subject), handler };
    this.#subscriptions.add(sub);
    return { unsubscribe: () => void this.#subscriptions.delete(sub) };
  }

  healthy(): boolean {
    return this.#closing === undefined && this.#journal?.healthy !== false;
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    clearInterval(this.#sweeper);
    this.#subscriptions.clear();
    await Promise.all([...this.#consumers].map((consumer) => consumer.stop()));
    this.#consumers.clear();
    for (const stream of this.#streams.values()) stream.close();
    await this.#journal?.close();
  }

  #checkOpen(): void {
    if (this.#closing !== undefined) throw new UnavailableError('the embedded bus is closed');
  }

  #route(subject: string): Stream | undefined {
    let stream = this.#routes.get(subject);
    if (stream === undefined) {
      stream = null;
      for (const candidate of this.#streams.values()) {
        if (candidate.captures(subject)) {
          stream = candidate;
          break;
        }
      }
      if (this.#routes.size >= ROUTE_CACHE_LIMIT) this.#routes.clear();
      this.#routes.set(subject, stream);
    }
    return stream ?? undefined;
  }

  #sweep(): void {
    const now = Date.now();
    for (const stream of this.#streams.values()) {
      stream.expire(now);
      stream.pruneDedup(now);
      if (stream.dedupPrunedUnjournaled > 0) {
        stream.dedupPrunedUnjournaled = 0;
        this.#journal?.pruneDedup(stream.name, now - stream.config.duplicateWindowMs);
      }
    }
  }
}
