/**
 * The clock `timediff` reads. json-logic operations are module-level functions with no way to
 * pass options, so the evaluator installs the caller's clock for the duration of one synchronous
 * evaluation and always restores the previous one: nothing set by one caller (or test) outlives
 * its call.
 */

/** Milliseconds since the epoch, like `Date.now`. */
export type Clock = () => number;

let active: Clock = Date.now;

/** Runs `fn` with `clock` as the time source of `timediff`; restores the previous clock after. */
export function withClock<T>(clock: Clock | undefined, fn: () => T): T {
  if (clock === undefined || clock === active) return fn();
  const previous = active;
  active = clock;
  try {
    return fn();
  } finally {
    active = previous;
  }
}

export function now(): number {
  return active();
}
