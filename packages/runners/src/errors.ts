/**
 * How a runner says an action did not succeed. Each error is a ReflexError with a code (what
 * crosses the bus is `toErrorJson(err)`); the ones below also carry the `result` the action
 * produced (exit code and output, an HTTP response) so a failed execution keeps it, and say
 * whether trying again may help, for the retry policy.
 */
import { NonRetriableError, ReflexError, RetryAfterError, type JsonValue } from '@reflex/model';

export interface ActionFailedOptions {
  /** Default `ACTION_FAILED`. */
  code?: string;
  /** What the action produced: stored with the failed execution. */
  result?: JsonValue;
  /** Whether another attempt may succeed. Default true. */
  retriable?: boolean;
  /** The other side asked for this long a pause before another attempt (HTTP Retry-After). */
  retryAfterMs?: number;
  cause?: unknown;
}

/**
 * The action ran and failed: a process exited non-zero or was killed by a signal, an HTTP
 * response had a status not expected, a node action threw.
 *
 * Codes: `ACTION_FAILED` (non-zero exit), `ACTION_ERROR` (a node action threw; or the code the
 * action's error carried), `ACTION_EXITED` (a node action's process ended without returning),
 * `HTTP_STATUS` (unexpected status), `HTTP_UNREACHABLE` (no response: connection refused, DNS, TLS).
 */
export class ActionFailedError extends ReflexError {
  readonly result: JsonValue | undefined;
  readonly retriable: boolean;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: ActionFailedOptions = {}) {
    super(options.code ?? 'ACTION_FAILED', message, { cause: options.cause });
    this.result = options.result;
    this.retriable = options.retriable ?? true;
    this.retryAfterMs = options.retryAfterMs;
  }
}

/** The attempt ran out of time and was stopped (code `TIMEOUT`); `result` is what it produced until then. */
export class ActionTimeoutError extends ReflexError {
  readonly result: JsonValue | undefined;
  constructor(message: string, options: { result?: JsonValue; cause?: unknown } = {}) {
    super('TIMEOUT', message, { cause: options.cause });
    this.result = options.result;
  }
}

/** The execution was canceled and the action stopped (code `CANCELED`); `result` is what it produced until then. */
export class ActionCanceledError extends ReflexError {
  readonly result: JsonValue | undefined;
  constructor(message: string, options: { result?: JsonValue; cause?: unknown } = {}) {
    super('CANCELED', message, { cause: options.cause });
    this.result = options.result;
  }
}

/** Bad parameters for a runner: never worth another attempt. */
export function invalidParameters(message: string, cause?: unknown): NonRetriableError {
  return new NonRetriableError(message, { code: 'INVALID_PARAMETERS', cause });
}

/**
 * Whether an abort reason means "time is up" rather than "canceled": an error named
 * `TimeoutError` (what `AbortSignal.timeout()` aborts with) or one with the code `TIMEOUT`
 * (ActionTimeoutError, or any ReflexError of that code).
 */
export function isTimeoutReason(reason: unknown): boolean {
  if (typeof reason !== 'object' || reason === null) return false;
  const { name, code } = reason as { name?: unknown; code?: unknown };
  return name === 'TimeoutError' || code === 'TIMEOUT';
}

/** The error a runner throws when `signal` stopped it. */
export function stoppedError(kind: 'timeout' | 'canceled', message: string, result?: JsonValue, cause?: unknown): ActionTimeoutError | ActionCanceledError {
  const options = { ...(result === undefined ? {} : { result }), cause };
  return kind === 'timeout' ? new ActionTimeoutError(message, options) : new ActionCanceledError(message, options);
}

export interface RetryHint {
  retriable: boolean;
  /** Wait at least this long before the next attempt. */
  retryAfterMs?: number;
}

/**
 * What a runner's error says about trying again; the retry policy decides whether it does.
 * NonRetriableError and a canceled action: never. RetryAfterError, or an ActionFailedError with
 * `retryAfterMs`: not before then. ActionFailedError: its `retriable`. Anything else (a timeout,
 * an unexpected error): may help.
 */
export function retryHintOf(err: unknown): RetryHint {
  if (err instanceof NonRetriableError || err instanceof ActionCanceledError) return { retriable: false };
  if (err instanceof RetryAfterError) return { retriable: true, retryAfterMs: err.retryAfterMs };
  if (err instanceof ActionFailedError) {
    return err.retryAfterMs === undefined ? { retriable: err.retriable } : { retriable: err.retriable, retryAfterMs: err.retryAfterMs };
  }
  return { retriable: true };
}

/** The result an error carries (exit code and output, an HTTP response), to store with the failed execution. */
export function resultOf(err: unknown): JsonValue | undefined {
  if (err instanceof ActionFailedError || err instanceof ActionTimeoutError || err instanceof ActionCanceledError) return err.result;
  return undefined;
}
