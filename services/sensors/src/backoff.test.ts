import { describe, expect, it } from 'vitest';
import { backoffDelay, DEFAULT_BACKOFF } from './backoff.ts';

describe('backoff', () => {
  it('doubles from 1 s to a 60 s cap', () => {
    const middle = () => 0.5;
    expect([0, 1, 2, 3, 4, 5, 6, 7, 20].map((n) => backoffDelay(n, DEFAULT_BACKOFF, middle))).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000]);
  });

  it('spreads each delay by the jitter, and keeps growing through it', () => {
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0)).toBe(800);
    expect(backoffDelay(0, DEFAULT_BACKOFF, () => 0.999999)).toBe(1200);
    for (let n = 0; n < 5; n++) expect(backoffDelay(n + 1, DEFAULT_BACKOFF, () => 0)).toBeGreaterThan(backoffDelay(n, DEFAULT_BACKOFF, () => 0.999999));
  });
});
