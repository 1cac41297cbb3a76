/**
 * Where each running sensor's status goes: the datastore's internal scope `sensors.status`, by ref,
 * so that every API replica can show it. Writes are coalesced (at most one per sensor per flush
 * interval, state changes at once) and expire `ttlMs` after the last one: the status of a sensor
 * whose process died goes away with it, until the process that takes it over writes its own.
 */
import type { Logger } from 'pino';
import { SENSOR_STATUS_SCOPE, type SensorStatus } from '@reflex/model';
import type { Store } from '@reflex/store';

export interface StatusBoardOptions {
  store: Store;
  logger: Logger;
  ttlMs: number;
  flushMs?: number;
}

export class StatusBoard {
  readonly #options: StatusBoardOptions;
  readonly #pending = new Map<string, SensorStatus>();
  readonly #timer: NodeJS.Timeout;
  #writing: Promise<void> = Promise.resolve();

  constructor(options: StatusBoardOptions) {
    this.#options = options;
    this.#timer = setInterval(() => void this.flush(), options.flushMs ?? 1000);
    this.#timer.unref();
  }

  /** Records the status; written at the next flush, or now when `urgent` (a state change). */
  update(status: SensorStatus, urgent = false): void {
    this.#pending.set(status.ref, { ...status, updatedAt: new Date().toISOString() });
    if (urgent) void this.flush();
  }

  /** Forgets what is pending for a sensor (its lease went to another process, which writes from now on). */
  drop(ref: string): void {
    this.#pending.delete(ref);
  }

  /** Writes what is pending, after any write already under way (so writes of one sensor stay in order). */
  flush(): Promise<void> {
    this.#writing = this.#writing.then(async () => {
      const batch = [...this.#pending.values()];
      this.#pending.clear();
      for (const status of batch) {
        try {
          await this.#options.store.keys.put({
            scope: SENSOR_STATUS_SCOPE,
            name: status.ref,
            value: JSON.parse(JSON.stringify(status)),
            expiresAt: new Date(Date.now() + this.#options.ttlMs).toISOString(),
          });
        } catch (err) {
          this.#options.logger.warn({ err, sensor: status.ref }, 'could not write a sensor status');
        }
      }
    });
    return this.#writing;
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.flush();
  }
}
