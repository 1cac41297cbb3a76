/**
 * The Bus port. Every service talks to this interface, never to a concrete client.
 * Two adapters implement it: NATS JetStream (distributed) and an embedded in-process bus with
 * the same semantics. One conformance suite (test/conformance.ts) runs against both.
 *
 * Semantics both adapters honour:
 * - `publish` resolves only once the message is durable in its stream; a repeated `msgId`
 *   inside the stream's duplicate window is dropped (ack says `duplicate: true`).
 * - A message stays in the stream until every durable consumer has acked it (or it ages out).
 * - Consumers with the same `durable` name share the work (competing consumers); different
 *   durable names each see every message (fan-out).
 * - A handler that resolves acks the message (unless it already called ack/nak/term);
 *   a handler that throws naks it; a message not acked within `ackWaitMs` is redelivered.
 *   `deliveryCount` counts deliveries, starting at 1. After `maxDeliver` deliveries it is dropped.
 * - `notify`/`subscribe` are plain, non-durable pub/sub for control signals.
 */

export interface StreamConfig {
  name: string;
  /** Subjects the stream captures; `*` and `>` wildcards as in NATS. */
  subjects: string[];
  /** Messages older than this are discarded; 0 or absent keeps them until acked by all. */
  maxAgeMs?: number;
  /** Window in which a repeated msgId is dropped. Default 120 000 ms. */
  duplicateWindowMs?: number;
}

export interface PublishOptions {
  /** Dedup id (JetStream `Nats-Msg-Id`). Derive it from the content's id so a retry is harmless. */
  msgId?: string;
  headers?: Record<string, string>;
  /** How long to wait for the stream's ack before failing with UnavailableError. Default 5000 ms. */
  timeoutMs?: number;
}

export interface PublishAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface BusMessage {
  readonly subject: string;
  readonly data: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** Sequence in the stream. */
  readonly seq: number;
  /** 1 on first delivery, 2 on the first redelivery, ... */
  readonly deliveryCount: number;
  json<T = unknown>(): T;
  string(): string;
  /** Done: never deliver again to this durable. */
  ack(): Promise<void>;
  /** Not done: deliver again, after `delayMs` (default: at once). */
  nak(delayMs?: number): void;
  /** Still working: restart the ack timer. */
  working(): void;
  /** Poison: never deliver again, without success. */
  term(): void;
}

export type MessageHandler = (msg: BusMessage) => Promise<void>;

export interface ConsumeOptions {
  stream: string;
  /** Consumers with the same durable name share the work and its position. */
  durable: string;
  /** One subject filter (wildcards allowed). Absent: every subject of the stream. */
  filterSubject?: string;
  /** Redeliver when not acked within this time. Default 30 000 ms. */
  ackWaitMs?: number;
  /** Give up after this many deliveries. Default: no limit. */
  maxDeliver?: number;
  /** Handlers this process runs at once for this consumer. Default 1 (in order). */
  concurrency?: number;
  /** Delay before redelivering after a handler throws. Default: 250 ms × deliveryCount, max 10 s. */
  nakDelayMs?: (deliveryCount: number) => number;
}

export interface Consumer {
  /** Stops fetching, waits for handlers in flight. Unacked messages stay for others. */
  stop(): Promise<void>;
}

export interface Subscription {
  unsubscribe(): void;
}

export interface Bus {
  /** Creates the stream or updates its config; idempotent, safe from every process. */
  ensureStream(config: StreamConfig): Promise<void>;
  /** Resolves when durable. Throws UnavailableError (code UNAVAILABLE) when the bus cannot take it. */
  publish(subject: string, data: Uint8Array, options?: PublishOptions): Promise<PublishAck>;
  consume(options: ConsumeOptions, handler: MessageHandler): Promise<Consumer>;
  /** Best-effort, non-durable broadcast. */
  notify(subject: string, data: Uint8Array): Promise<void>;
  subscribe(subject: string, handler: (subject: string, data: Uint8Array) => void): Subscription;
  /** Whether the bus is connected and able to take publishes. */
  healthy(): boolean;
  close(): Promise<void>;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export function encodeJson(value: unknown): Uint8Array {
  return encoder.encode(JSON.stringify(value));
}

export function decodeJson<T = unknown>(data: Uint8Array): T {
  return JSON.parse(decoder.decode(data)) as T;
}

export function decodeText(data: Uint8Array): string {
  return decoder.decode(data);
}
