/**
 * Reliable delivery to one named target: validate the message, pass the per-target circuit
 * breaker, attempt with a timeout, classify the failure, back off (exponential, full jitter) or
 * wait as long as the vendor asked (RetryAfterError), within a number of attempts and a time
 * budget. The caller gets one of three outcomes:
 * - `delivered`: the receipt (store it per thread key for later updates);
 * - `failed-permanently`: the vendor refused, or the request was bad: do not retry;
 * - `exhausted`: still failing when attempts, time budget or the circuit ran out: dead-letter
 *   it, or (circuit open, or a Retry-After beyond the budget) redeliver after `retryAfterMs`.
 * Exactly-once across crashes is the caller's (a store keyed by execution); the idempotency key is
 * passed on to vendors that honour one. Every error message is redacted with the target's secrets.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { NonRetriableError, ReflexError, RetryAfterError, toErrorJson, ValidationError, type ErrorJson } from '@reflex/model';
import type { ChatAdapter, DeliveryReceipt, SendOptions } from './adapter.ts';
import { CircuitBreaker, type CircuitBreakerOptions, type CircuitSnapshot, type CircuitState } from './circuit-breaker.ts';
import { parseChatMessage, type ChatMessage } from './message.ts';
import type { ChatAdapters } from './registry.ts';
import { redactorFor, type Redactor } from './secrets.ts';
import type { ChatConfig, TargetConfig } from './targets.ts';

export interface RetryOptions {
  /** Attempts in all, the first included. Default 5. */
  maxAttempts: number;
  /** Backoff before the 2nd attempt (before jitter); doubles each attempt. Default 500 ms. */
  baseDelayMs: number;
  /** Cap of one backoff. Default 30 s. */
  maxDelayMs: number;
  /** No attempt starts, and no wait is begun, past this much time after the first attempt. Default 60 s. */
  budgetMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 5, baseDelayMs: 500, maxDelayMs: 30_000, budgetMs: 60_000 };

export interface DelivererOptions {
  config: ChatConfig;
  adapters: ChatAdapters;
  retry?: Partial<RetryOptions>;
  circuit?: CircuitBreakerOptions;
  /** Per-attempt timeout unless the target sets `timeoutMs`. Default 10 s. */
  attemptTimeoutMs?: number;
  /** Clock and randomness, injectable for tests. */
  now?: () => number;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** Signal aborted after `ms`; default AbortSignal.timeout. */
  timeoutSignal?: (ms: number) => AbortSignal;
  /** Typed events instead of logs: attempts that failed, circuits that moved, deliveries. */
  onEvent?: (event: DeliveryEvent) => void;
}

export interface DeliveryRequest {
  /** Target name; default the config's defaultTarget. */
  target?: string;
  /** A ChatMessage, or anything to be checked as one (action parameters). */
  message: unknown;
  /** `update` edits (or follows up on) the message `receipt` points at. Default `post`. */
  operation?: 'post' | 'update';
  /** For `update`: the receipt of the thread's first delivery, if the caller has one. */
  receipt?: DeliveryReceipt;
  /** Same key on every redelivery of one execution (e.g. the execution id). */
  idempotencyKey?: string;
  /** Aborting it stops the delivery: `deliver` rejects with the signal's reason. */
  signal?: AbortSignal;
}

export type ExhaustedReason = 'max-attempts' | 'time-budget' | 'circuit-open';

export type DeliveryOutcome =
  | { status: 'delivered'; target: string; receipt: DeliveryReceipt; attempts: number }
  | { status: 'failed-permanently'; target: string; error: ErrorJson; attempts: number }
  | {
      status: 'exhausted';
      target: string;
      reason: ExhaustedReason;
      error: ErrorJson;
      attempts: number;
      /** When known, how long to wait before trying again (circuit cooldown, vendor's Retry-After). */
      retryAfterMs?: number;
    };

export type DeliveryEvent =
  | { type: 'attempt-failed'; target: string; attempt: number; error: ErrorJson; retriable: boolean; retryInMs?: number }
  | { type: 'circuit-changed'; target: string; from: CircuitState; to: CircuitState }
  | { type: 'delivered'; target: string; attempts: number; mode: DeliveryReceipt['mode'] };

function defaultSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return delay(ms, undefined, signal === undefined ? undefined : { signal });
}

export class Deliverer {
  #config: ChatConfig;
  readonly #adapters: ChatAdapters;
  readonly #retry: RetryOptions;
  readonly #circuitOptions: CircuitBreakerOptions;
  readonly #attemptTimeoutMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #timeoutSignal: (ms: number) => AbortSignal;
  readonly #onEvent: (event: DeliveryEvent) => void;
  readonly #breakers = new Map<string, CircuitBreaker>();

  constructor(options: DelivererOptions) {
    this.#config = options.config;
    this.#adapters = options.adapters;
    this.#retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#circuitOptions = options.circuit ?? {};
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? 10_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? defaultSleep;
    this.#random = options.random ?? Math.random;
    this.#timeoutSignal = options.timeoutSignal ?? ((ms) => AbortSignal.timeout(ms));
    this.#onEvent = options.onEvent ?? (() => undefined);
  }

  /** Swaps the targets (pack config reloaded). Circuits of targets that keep their name keep their state. */
  reconfigure(config: ChatConfig): void {
    this.#config = config;
    for (const name of [...this.#breakers.keys()]) if (config.targets[name] === undefined) this.#breakers.delete(name);
  }

  get config(): ChatConfig {
    return this.#config;
  }

  /** Circuit state per target that has seen a delivery (for health and the API). */
  circuits(): Record<string, CircuitSnapshot> {
    const out: Record<string, CircuitSnapshot> = {};
    for (const [name, breaker] of this.#breakers) out[name] = breaker.snapshot();
    return out;
  }

  async deliver(request: DeliveryRequest): Promise<DeliveryOutcome> {
    const name = request.target ?? this.#config.defaultTarget;
    const target = this.#config.targets[name];
    if (target === undefined) {
      const known = Object.keys(this.#config.targets).sort().join(', ');
      return permanent(name, new NonRetriableError(`unknown chat target '${name}' (configured: ${known})`, { code: 'CHAT_UNKNOWN_TARGET' }), 0);
    }
    const adapter = this.#adapters.get(target.adapter);
    if (adapter === undefined) {
      return permanent(name, new NonRetriableError(`chat target '${name}' uses adapter '${target.adapter}', which this process does not have`, { code: 'CHAT_UNKNOWN_ADAPTER' }), 0);
    }
    let message: ChatMessage;
    try {
      message = parseChatMessage(request.message, 'message');
    } catch (err) {
      if (err instanceof ValidationError) return permanent(name, err, 0);
      throw err;
    }
    return this.#attempts(target, adapter, message, request);
  }

  async #attempts(target: TargetConfig, adapter: ChatAdapter, message: ChatMessage, request: DeliveryRequest): Promise<DeliveryOutcome> {
    const name = target.name;
    const redact = redactorFor(target);
    const breaker = this.#breakerFor(name);
    const deadline = this.#now() + this.#retry.budgetMs;
    let attempts = 0;
    for (;;) {
      request.signal?.throwIfAborted();
      if (!breaker.tryAcquire()) {
        const wait = breaker.msUntilProbe();
        const error = new ReflexError('CHAT_CIRCUIT_OPEN', `chat target '${name}' is failing; its circuit is open${wait > 0 ? ` for ${wait} ms more` : ' (a probe is under way)'}`);
        return { status: 'exhausted', target: name, reason: 'circuit-open', error: toErrorJson(error), attempts, retryAfterMs: Math.max(wait, 1) };
      }
      attempts += 1;
      try {
        const receipt = await this.#attempt(target, adapter, message, request);
        breaker.recordSuccess();
        this.#onEvent({ type: 'delivered', target: name, attempts, mode: receipt.mode });
        return { status: 'delivered', target: name, receipt, attempts };
      } catch (err) {
        if (isAborted(request.signal)) {
          breaker.release();
          throw request.signal?.reason;
        }
        const error = sanitize(err, redact);
        if (err instanceof NonRetriableError || err instanceof ValidationError) {
          breaker.recordSuccess(); // the vendor answered: it is alive
          this.#onEvent({ type: 'attempt-failed', target: name, attempt: attempts, error, retriable: false });
          return { status: 'failed-permanently', target: name, error, attempts };
        }
        let wait: number;
        if (err instanceof RetryAfterError) {
          breaker.recordSuccess();
          wait = Math.max(0, err.retryAfterMs);
        } else {
          breaker.recordFailure();
          wait = this.#backoff(attempts);
        }
        if (attempts >= this.#retry.maxAttempts) {
          this.#onEvent({ type: 'attempt-failed', target: name, attempt: attempts, error, retriable: true });
          const outcome: DeliveryOutcome = { status: 'exhausted', target: name, reason: 'max-attempts', error, attempts };
          if (err instanceof RetryAfterError) outcome.retryAfterMs = wait;
          return outcome;
        }
        if (this.#now() + wait > deadline) {
          this.#onEvent({ type: 'attempt-failed', target: name, attempt: attempts, error, retriable: true });
          return { status: 'exhausted', target: name, reason: 'time-budget', error, attempts, retryAfterMs: Math.max(wait, 1) };
        }
        this.#onEvent({ type: 'attempt-failed', target: name, attempt: attempts, error, retriable: true, retryInMs: wait });
        try {
          await this.#sleep(wait, request.signal);
        } catch (sleepErr) {
          if (isAborted(request.signal)) throw request.signal?.reason;
          throw sleepErr;
        }
      }
    }
  }

  async #attempt(target: TargetConfig, adapter: ChatAdapter, message: ChatMessage, request: DeliveryRequest): Promise<DeliveryReceipt> {
    const timeout = this.#timeoutSignal(target.timeoutMs ?? this.#attemptTimeoutMs);
    const signal = request.signal === undefined ? timeout : AbortSignal.any([request.signal, timeout]);
    const options: SendOptions = { signal };
    if (request.idempotencyKey !== undefined) options.idempotencyKey = request.idempotencyKey;
    if (request.operation !== 'update') return adapter.post(target, message, options);
    if (adapter.update !== undefined) return adapter.update(target, request.receipt, message, options);
    return adapter.post(target, message, { ...options, followUp: true });
  }

  /** Full jitter: uniformly random in [0, min(max, base · 2^(attempt-1))]. */
  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#retry.maxDelayMs, this.#retry.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.#random() * ceiling);
  }

  #breakerFor(name: string): CircuitBreaker {
    let breaker = this.#breakers.get(name);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(this.#circuitOptions, this.#now, (from, to) => this.#onEvent({ type: 'circuit-changed', target: name, from, to }));
      this.#breakers.set(name, breaker);
    }
    return breaker;
  }
}

/** A function, so the compiler does not keep an earlier check's narrowing across an await. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function permanent(target: string, error: unknown, attempts: number): DeliveryOutcome {
  return { status: 'failed-permanently', target, error: toErrorJson(error), attempts };
}

/** The error as plain JSON with every secret of the target masked, in the message and the details. */
function sanitize(err: unknown, redact: Redactor): ErrorJson {
  const json = toErrorJson(err);
  json.message = redact(json.message);
  if (json.details !== undefined) json.details = json.details.map((d) => ({ field: d.field, message: redact(d.message) }));
  return json;
}
