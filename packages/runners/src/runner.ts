import type { ExecutionRequest, JsonObject, JsonValue, PackKvRequest } from '@reflex/model';

export type OutputStream = 'stdout' | 'stderr';

/**
 * The logger a runner may be given: the subset of pino it uses, so a pino child logger fits
 * as it is and a test can pass a plain object. Runners log their own mechanics at debug/warn
 * (process started, escalated to SIGKILL); an action's output goes to `onOutput`, not here.
 */
export interface RunnerLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface RunLimits {
  /** Bytes of stdout, and separately of stderr (or of an HTTP response body), kept and streamed. Default 1 MiB. */
  outputBytes?: number;
  /**
   * Longest time between asking a process to stop and forcing it with SIGKILL. Default 5000 ms.
   * Shell: SIGTERM, then SIGKILL after this. Node: the abort message, SIGTERM at half of it, SIGKILL at the end.
   * After SIGKILL the runner settles within about half a second (output drain).
   */
  killGraceMs?: number;
}

export interface RunContext {
  /**
   * Aborted when the execution is canceled or must stop. A reason that is a timeout (an
   * `ActionTimeoutError`, or any error named `TimeoutError` as `AbortSignal.timeout()` gives)
   * makes the runner throw `ActionTimeoutError`; any other reason `ActionCanceledError`.
   */
  signal: AbortSignal;
  /** Absolute directory of the action's pack: where `entryPoint` is found. Required by `local-shell-script` and `nodejs`. */
  packDir?: string;
  /** Time limit of this attempt (the action's `timeout` policy). A `timeout` parameter, where a runner has one, can only shorten it. */
  timeoutMs?: number;
  /** Each line of the action's output, as it happens (without its line break). Must not throw; must be quick. */
  onOutput?(stream: OutputStream, line: string): void;
  logger?: RunnerLogger;
  limits?: RunLimits;
  /** The pack's configuration, handed to node actions as `ctx.config`. */
  config?: JsonObject;
  /**
   * The datastore scope of the action's pack (`pack:<pack>`), behind node actions' `ctx.kv`: resolves
   * to the value read (null when absent), null after a put, whether a delete removed a value; rejects
   * with a coded error. Absent: `ctx.kv` calls reject with code `KV_UNAVAILABLE`.
   */
  kv?: (request: PackKvRequest) => Promise<JsonValue>;
}

/**
 * Carries out execution requests of one runner type. Returns the result (stored with the
 * execution); throws to fail it (a ReflexError's code and message are kept):
 *
 * - `NonRetriableError` (from @reflex/model): bad parameters or configuration; trying again cannot help;
 * - `ActionFailedError`: the action ran and failed; `result` holds what it produced (exit code, output,
 *   HTTP status), `retriable` / `retryAfterMs` say whether trying again may help;
 * - `ActionTimeoutError` / `ActionCanceledError`: it was stopped; `result` holds what it produced until then.
 *
 * See `retryHintOf` and `resultOf` in errors.ts.
 */
export interface Runner {
  readonly name: string;
  run(request: ExecutionRequest, ctx: RunContext): Promise<JsonValue>;
}

export const DEFAULT_OUTPUT_BYTES = 1024 * 1024;
export const DEFAULT_KILL_GRACE_MS = 5000;
