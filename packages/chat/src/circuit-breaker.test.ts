import { describe, expect, it } from 'vitest';
import { CircuitBreaker, type CircuitState } from './index.ts';

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, lets one probe through after the cooldown, and closes or reopens on its result', () => {
    let now = 0;
    const moves: string[] = [];
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1000 }, () => now, (from: CircuitState, to: CircuitState) => moves.push(`${from}>${to}`));

    breaker.recordFailure();
    breaker.recordFailure();
    breaker.recordSuccess(); // an answer resets the count
    breaker.recordFailure();
    breaker.recordFailure();
    expect(breaker.state).toBe('closed');
    breaker.recordFailure();
    expect(breaker.state).toBe('open');
    expect(breaker.tryAcquire()).toBe(false);
    expect(breaker.msUntilProbe()).toBe(1000);

    now = 1000;
    expect(breaker.state).toBe('half-open');
    expect(breaker.tryAcquire()).toBe(true);
    expect(breaker.tryAcquire()).toBe(false); // one probe at a time
    breaker.recordFailure(); // the probe failed: open again, for a new cooldown
    expect(breaker.snapshot()).toEqual({ state: 'open', consecutiveFailures: 4, probeAt: 2000 });

    now = 2000;
    expect(breaker.tryAcquire()).toBe(true);
    breaker.release(); // the caller gave up: the probe slot is free again
    expect(breaker.tryAcquire()).toBe(true);
    breaker.recordSuccess();
    expect(breaker.state).toBe('closed');
    expect(moves).toEqual(['closed>open', 'open>half-open', 'half-open>open', 'open>half-open', 'half-open>closed']);
  });
});
