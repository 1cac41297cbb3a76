/**
 * The core.interval timers run in one sensors process at a time: the one holding the lease
 * `lease:sensor:core.interval` (one lease for all timers). Others keep their timers stopped and
 * take over when that lease expires or is released.
 */
import type { Logger } from 'pino';
import { INTERVAL_TRIGGER, type IntervalTimers } from './interval-timers.ts';
import { leaseKey, type Leases } from './leases.ts';

export class LeasedTimers {
  readonly #timers: IntervalTimers;
  readonly #leases: Leases;
  readonly #logger: Logger;
  #active = false;

  constructor(timers: IntervalTimers, leases: Leases, logger: Logger) {
    this.#timers = timers;
    this.#leases = leases;
    this.#logger = logger;
  }

  get active(): boolean {
    return this.#active;
  }

  get running(): number {
    return this.#timers.running;
  }

  /** Renews or takes the lease; starts the timers when it was taken, stops them when it was lost. */
  async tick(): Promise<void> {
    const held = await this.#leases.hold(leaseKey(INTERVAL_TRIGGER));
    if (held && !this.#active) {
      this.#active = true;
      await this.#timers.reload();
      this.#logger.info({ timers: this.#timers.running }, 'timers run in this process');
    } else if (!held && this.#active) {
      this.#active = false;
      this.#timers.stop();
      this.#logger.info('another sensors process runs the timers now');
    }
  }

  /** Rules changed: follow them, if the timers run here. */
  async reload(): Promise<void> {
    if (this.#active) await this.#timers.reload();
  }

  async stop(): Promise<void> {
    this.#timers.stop();
    if (this.#active) await this.#leases.release(leaseKey(INTERVAL_TRIGGER));
    this.#active = false;
  }
}
