/**
 * Exactly one sensors process runs each sensor: the one that holds its lease, a store record
 * (`noiseState`, whose `update` is an atomic read-modify-write shared by every process of a store)
 * under `lease:sensor:<ref>` that names its holder and expires `ttlMs` after it was last renewed. A
 * process renews what it holds and takes what is free or expired; one that dies stops renewing, so
 * another takes over within a TTL. A graceful stop releases at once.
 */
import type { Logger } from 'pino';
import type { Store } from '@reflex/store';

export const LEASE_OWNER = 'sensors';

export function leaseKey(ref: string): string {
  return `lease:sensor:${ref}`;
}

export interface LeaseOptions {
  store: Store;
  /** Who this process is, as written in the leases it holds. */
  holder: string;
  ttlMs: number;
  logger: Logger;
  now?: () => number;
}

export class Leases {
  readonly holder: string;
  readonly #options: LeaseOptions;
  readonly #now: () => number;
  /** Key → when this process last confirmed it holds it. */
  readonly #confirmed = new Map<string, number>();

  constructor(options: LeaseOptions) {
    this.#options = options;
    this.holder = options.holder;
    this.#now = options.now ?? Date.now;
  }

  /**
   * Takes the lease (free, expired or already ours) and extends it by a TTL; false when another
   * process holds it. When the store does not answer (an error, or no answer within a third of the
   * TTL), a lease confirmed recently enough still counts as held: until a third of the TTL before it
   * would expire, judged by the clock after the failure (nobody else can have taken it yet); after
   * that it is given up, so the sensor stops here before another process may start it.
   */
  async hold(key: string): Promise<boolean> {
    const now = this.#now();
    const ttlMs = this.#options.ttlMs;
    let timer: NodeJS.Timeout | undefined;
    try {
      const update = this.#options.store.noiseState.update(key, new Date(now), (current) => {
        if (current !== null && current.data['holder'] !== this.holder) return { result: false };
        return {
          write: { owner: LEASE_OWNER, data: { holder: this.holder }, expiresAt: new Date(now + ttlMs).toISOString() },
          result: true,
        };
      });
      update.catch(() => undefined); // a late failure after the timeout below is already handled
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`the store did not answer within ${Math.round(ttlMs / 3)} ms`)), ttlMs / 3);
      });
      const held = await Promise.race([update, timeout]);
      if (held) this.#confirmed.set(key, now);
      else this.#confirmed.delete(key);
      return held;
    } catch (err) {
      const at = this.#confirmed.get(key);
      const stillHeld = at !== undefined && this.#now() - at < ttlMs - ttlMs / 3;
      this.#options.logger.warn({ err, lease: key, stillHeld }, 'could not renew a lease');
      if (!stillHeld) this.#confirmed.delete(key);
      return stillHeld;
    } finally {
      clearTimeout(timer);
    }
  }

  /** Gives the lease up if this process holds it, so another process can take it at once. */
  async release(key: string): Promise<void> {
    this.#confirmed.delete(key);
    try {
      await this.#options.store.noiseState.update(key, new Date(this.#now()), (current) =>
        current !== null && current.data['holder'] === this.holder ? { write: null, result: undefined } : { result: undefined },
      );
    } catch (err) {
      this.#options.logger.warn({ err, lease: key }, 'could not release a lease; it expires by itself');
    }
  }
}
