/**
 * Signatures seen recently, each remembered until its timestamp leaves the tolerance window: a
 * captured request sent again inside the window is refused. Bounded: when full, the entries that
 * expire first go (they are the ones a replay could still use for the shortest time).
 */
export class ReplayCache {
  readonly #maxEntries: number;
  readonly #expiry = new Map<string, number>();

  constructor(maxEntries = 100_000) {
    this.#maxEntries = maxEntries;
  }

  /** True when `key` was seen and has not expired; otherwise remembers it until `expiresAtMs`. */
  seen(key: string, expiresAtMs: number, nowMs: number): boolean {
    const known = this.#expiry.get(key);
    if (known !== undefined && known > nowMs) return true;
    if (this.#expiry.size >= this.#maxEntries) this.#evict(nowMs);
    this.#expiry.set(key, expiresAtMs);
    return false;
  }

  get size(): number {
    return this.#expiry.size;
  }

  #evict(nowMs: number): void {
    for (const [key, at] of this.#expiry) if (at <= nowMs) this.#expiry.delete(key);
    if (this.#expiry.size < this.#maxEntries) return;
    const soonest = [...this.#expiry.entries()].sort((a, b) => a[1] - b[1]).slice(0, Math.ceil(this.#maxEntries / 10));
    for (const [key] of soonest) this.#expiry.delete(key);
  }
}
