/** What every piece of pack code gets: a pino-shaped logger, and JSON values. Types only. */
import type { JsonObject, JsonValue } from '@reflex/model';

export type { JsonObject, JsonValue };

/** pino-shaped: `info('text')`, `info({ host }, 'text')`, `error(err, 'text')`. */
export interface Logger {
  debug(objOrMsg: unknown, ...args: unknown[]): void;
  info(objOrMsg: unknown, ...args: unknown[]): void;
  warn(objOrMsg: unknown, ...args: unknown[]): void;
  error(objOrMsg: unknown, ...args: unknown[]): void;
}
