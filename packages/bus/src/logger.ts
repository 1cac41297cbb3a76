/**
 * What the bus adapters may say. A pino logger fits; without one the adapters stay silent
 * (packages never write to the console).
 */
export interface BusLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const noop = (): void => undefined;

export const silentLogger: BusLogger = { debug: noop, info: noop, warn: noop, error: noop };
