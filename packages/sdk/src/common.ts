/** What every piece of pack code gets: a pino-shaped logger, its pack's datastore scope, and JSON values. Types only. */
import type { JsonObject, JsonValue } from '@reflex/model';

export type { JsonObject, JsonValue };

/** pino-shaped: `info('text')`, `info({ host }, 'text')`, `error(err, 'text')`. */
export interface Logger {
  debug(objOrMsg: unknown, ...args: unknown[]): void;
  info(objOrMsg: unknown, ...args: unknown[]): void;
  warn(objOrMsg: unknown, ...args: unknown[]): void;
  error(objOrMsg: unknown, ...args: unknown[]): void;
}

/**
 * `ctx.kv` of sensors and `nodejs` actions: the pack's own datastore scope (`pack:<pack>`), the one
 * rules read as `kv.pack.<name>`. Each call goes to the service running the code; a failure rejects
 * with an Error carrying a `code` (`SECRET_UNREADABLE`, `VALIDATION_FAILED`, `KV_UNAVAILABLE`, ...).
 */
export interface PackKv {
  /**
   * The value, or null when absent or expired. A secret comes opened when the service running the
   * code holds the secrets key (an action's output, result and error then show it masked); else the
   * call rejects with `SECRET_UNREADABLE`.
   */
  get(name: string): Promise<JsonValue | null>;
  /** Creates or replaces, optionally expiring; announced, so rules engines read the new value on their next event. */
  put(name: string, value: JsonValue, options?: { ttlSeconds?: number }): Promise<void>;
  /** Whether there was a value. */
  delete(name: string): Promise<boolean>;
}
