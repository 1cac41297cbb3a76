/**
 * When a crashed sensor starts again: exponential backoff with jitter. The n-th restart in a row waits
 * `initialMs * 2^n`, capped at `maxMs`, times a random factor in [1 - jitter, 1 + jitter] (so a
 * sensor that crashes in every sensors process at once does not restart in lockstep). A sensor that
 * stayed up for `resetAfterMs` starts counting again from the first delay.
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 0..1: spread of the random factor. */
  jitter: number;
  resetAfterMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 60_000, jitter: 0.2, resetAfterMs: 60_000 };

/** Delay before restart number `attempt` (0 for the first restart in a row); `random` in [0, 1). */
export function backoffDelay(attempt: number, options: BackoffOptions, random: () => number = Math.random): number {
  const base = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, Math.min(attempt, 30)));
  const factor = 1 - options.jitter + 2 * options.jitter * random();
  return Math.max(0, Math.round(Math.min(options.maxMs * (1 + options.jitter), base * factor)));
}
