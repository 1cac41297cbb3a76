/**
 * A circuit breaker per chat target, so a dead vendor fails fast instead of holding every
 * delivery for its full retry schedule.
 *
 *   closed ──(failureThreshold consecutive failures)──► open ──(cooldownMs)──► half-open
 *     ▲                                                  ▲                        │ one probe
 *     └───────────────── probe answered ─────────────────┴──── probe failed ◄─────┘
 *
 * Only "the vendor did not answer properly" counts as a failure (network, timeout, 5xx). A
 * refusal (4xx) or a rate limit (429) is an answer: the vendor is alive.
 */

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the circuit. Default 5. */
  failureThreshold?: number;
  /** How long it stays open before one probe may go through. Default 30 s. */
  cooldownMs?: number;
}

export interface CircuitSnapshot {
  state: CircuitState;
  consecutiveFailures: number;
  /** When the open circuit lets a probe through (ms since the epoch), while open. */
  probeAt?: number;
}

export class CircuitBreaker {
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;
  readonly #onChange: ((from: CircuitState, to: CircuitState) => void) | undefined;
  #state: CircuitState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #probeOut = false;

  constructor(options: CircuitBreakerOptions = {}, now: () => number = Date.now, onChange?: (from: CircuitState, to: CircuitState) => void) {
    this.#threshold = Math.max(1, options.failureThreshold ?? 5);
    this.#cooldownMs = Math.max(0, options.cooldownMs ?? 30_000);
    this.#now = now;
    this.#onChange = onChange;
  }

  get state(): CircuitState {
    if (this.#state === 'open' && this.#now() >= this.#openedAt + this.#cooldownMs) this.#move('half-open');
    return this.#state;
  }

  /** May a call go out now? Closed: yes. Open: no. Half-open: yes for exactly one probe at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#probeOut) return false;
    this.#probeOut = true;
    return true;
  }

  /** The vendor answered (accepted, refused, or rate limited). */
  recordSuccess(): void {
    this.#failures = 0;
    this.#probeOut = false;
    if (this.#state !== 'closed') this.#move('closed');
  }

  /** The vendor did not answer properly (network, timeout, 5xx). */
  recordFailure(): void {
    this.#failures += 1;
    const probeFailed = this.#probeOut;
    this.#probeOut = false;
    if (probeFailed || (this.#state === 'closed' && this.#failures >= this.#threshold)) {
      this.#openedAt = this.#now();
      this.#move('open');
    }
  }

  /** A call ended without telling anything (the caller gave up): frees the probe slot. */
  release(): void {
    this.#probeOut = false;
  }

  /** Milliseconds until a probe may go through (0 unless open). */
  msUntilProbe(): number {
    return this.state === 'open' ? Math.max(0, this.#openedAt + this.#cooldownMs - this.#now()) : 0;
  }

  snapshot(): CircuitSnapshot {
    const state = this.state;
    const snap: CircuitSnapshot = { state, consecutiveFailures: this.#failures };
    if (state === 'open') snap.probeAt = this.#openedAt + this.#cooldownMs;
    return snap;
  }

  #move(to: CircuitState): void {
    const from = this.#state;
    if (from === to) return;
    this.#state = to;
    this.#onChange?.(from, to);
  }
}
