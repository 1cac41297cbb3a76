/**
 * A clock for Deliverer tests: `sleep` returns at once and moves `now` forward by the time asked,
 * recording it, so backoff and Retry-After are asserted exactly and no test waits for real.
 */
export interface FakeClock {
  now: () => number;
  sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Every sleep asked for, in order. */
  readonly sleeps: number[];
  advance(ms: number): void;
}

export function fakeClock(start = Date.UTC(2025, 0, 1)): FakeClock {
  let time = start;
  const sleeps: number[] = [];
  return {
    now: () => time,
    sleep: async (ms, signal) => {
      signal?.throwIfAborted();
      sleeps.push(ms);
      time += ms;
    },
    sleeps,
    advance: (ms) => {
      time += ms;
    },
  };
}
