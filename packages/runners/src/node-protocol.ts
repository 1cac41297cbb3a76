/**
 * What a node action sees (`ActionContext`, `NodeAction`: import them with `import type` in a
 * pack's action module) and the messages between the `nodejs` runner and the child process
 * that hosts the action. Types only: the child imports nothing of Reflex at run time.
 */
import type { JsonObject, JsonValue, PackKvRequest } from '@reflex/model';

/** pino-shaped: `info('text')`, `info({ host }, 'text')`, `error(err, 'text')`. Lines become the execution's output. */
export interface ActionLogger {
  debug(objOrMsg: unknown, ...args: unknown[]): void;
  info(objOrMsg: unknown, ...args: unknown[]): void;
  warn(objOrMsg: unknown, ...args: unknown[]): void;
  error(objOrMsg: unknown, ...args: unknown[]): void;
}

/**
 * The datastore scope of the action's pack (`pack:<pack>`, what rules read as `kv.pack.<name>`).
 * Each call asks the runner; a failure rejects with an Error carrying the failure's `code`
 * (`KV_UNAVAILABLE` when the runner has no datastore, `SECRET_UNREADABLE`, `VALIDATION_FAILED`, ...).
 */
export interface ActionKv {
  /** The value, or null when absent or expired. A secret comes opened when the action runner holds the secrets key. */
  get(name: string): Promise<JsonValue | null>;
  /** Creates or replaces; announced, so rules engines read the new value on their next event. */
  put(name: string, value: JsonValue, options?: { ttlSeconds?: number }): Promise<void>;
  /** Whether there was a value. */
  delete(name: string): Promise<boolean>;
}

export interface ActionContext<Config extends JsonObject = JsonObject> {
  /** debug/info lines go to the execution's stdout, warn/error lines to its stderr. */
  logger: ActionLogger;
  /** The pack's configuration (`{}` when it has none). */
  config: Config;
  /** Aborted when the execution is canceled or times out; the process gets SIGTERM a moment later (half the grace period, 2.5 s by default), then SIGKILL. */
  signal: AbortSignal;
  executionId: string;
  /** The action's ref, `pack.name`. */
  action: string;
  pack: string;
  /** Absolute directory of the pack (also the process's working directory). */
  packDir: string;
  traceId: string;
  /** The pack's datastore scope. */
  kv: ActionKv;
}

/**
 * The default export of a `nodejs` action module. Its value (JSON: `undefined` becomes `null`) is
 * the execution's result; a throw fails the execution with the error's message. An error with
 * `retriable: false` (or named `NonRetriableError`) is not retried; one with a numeric
 * `retryAfterMs` is not retried sooner; a string `code` (`A_CODE`) is kept as the error's code.
 */
export type NodeAction<Params = JsonObject, Result = JsonValue> = (params: Params, ctx: ActionContext) => Result | Promise<Result>;

/** An error as it crosses from the child: no stack (it was printed to the action's stderr). */
export interface ActionErrorInfo {
  name: string;
  message: string;
  code?: string;
  retriable?: boolean;
  retryAfterMs?: number;
}

/** A failed datastore request, as it crosses to the child. */
export interface KvErrorInfo {
  name: string;
  code: string;
  message: string;
}

export type ParentMessage =
  | {
      type: 'run';
      modulePath: string;
      parameters: JsonObject;
      config: JsonObject;
      context: { executionId: string; action: string; pack: string; packDir: string; traceId: string };
    }
  | { type: 'abort'; reason: 'timeout' | 'canceled' }
  /** The answer to the child's `kv` request of the same id. */
  | { type: 'kv-reply'; id: number; ok: true; value: JsonValue }
  | { type: 'kv-reply'; id: number; ok: false; error: KvErrorInfo };

/** A `ctx.kv` call; ids are the child's, one per call. */
export type KvMessage = { type: 'kv'; id: number } & PackKvRequest;

export type ChildMessage =
  | { type: 'result'; value: JsonValue }
  /** `load`: the module could not be imported or has no default export function; `result`: the value is not JSON; `run`: the action threw. */
  | { type: 'error'; phase: 'load' | 'run' | 'result'; error: ActionErrorInfo }
  | KvMessage;
