import { describe, expect, it } from 'vitest';
import { acquireSlot, lastExpiry, liveHolders, type SlotRequest, type SlotState } from './slot-queue.ts';

const EMPTY: SlotState = { holders: [], queue: [] };
const request = (holder: string, enqueuedMs: number, limit = 1, ttlMs = 100): SlotRequest => ({
  key: 'k',
  holder,
  limit,
  ttlMs,
  enqueuedMs,
});

describe('acquireSlot', () => {
  it('takes a free slot, and leaves the input state alone', () => {
    const { state, acquired } = acquireSlot(EMPTY, request('a', 5), 1000);
    expect(acquired).toBe(true);
    expect(state).toEqual({ holders: [{ holder: 'a', acquiredMs: 1000, expiresMs: 1100 }], queue: [] });
    expect(EMPTY).toEqual({ holders: [], queue: [] });
  });

  it('a holder asking again keeps one slot, extended, never shortened', () => {
    const held = acquireSlot(EMPTY, request('a', 5, 1, 500), 1000).state;
    const again = acquireSlot(held, request('a', 5, 1, 100), 1010);
    expect(again.acquired).toBe(true);
    expect(again.state.holders).toEqual([{ holder: 'a', acquiredMs: 1000, expiresMs: 1500 }]);
    expect(acquireSlot(again.state, request('a', 5, 1, 1000), 1020).state.holders[0]?.expiresMs).toBe(2020);
  });

  it('a waiter keeps its first place and refreshes its time to live', () => {
    let state = acquireSlot(EMPTY, request('a', 0), 1000).state;
    state = acquireSlot(state, request('b', 10), 1000).state;
    state = acquireSlot(state, request('b', 99), 1050).state;
    expect(state.queue).toEqual([{ holder: 'b', enqueuedMs: 10, expiresMs: 1150 }]);
  });

  it('with n slots free, the first n waiters may take them; later ones may not', () => {
    let state: SlotState = {
      holders: [],
      queue: [
        { holder: 'w1', enqueuedMs: 1, expiresMs: 5000 },
        { holder: 'w2', enqueuedMs: 2, expiresMs: 5000 },
        { holder: 'w3', enqueuedMs: 3, expiresMs: 5000 },
      ],
    };
    expect(acquireSlot(state, request('w3', 3, 2), 1000).acquired).toBe(false);
    const second = acquireSlot(state, request('w2', 2, 2), 1000);
    expect(second.acquired).toBe(true);
    state = second.state;
    expect(acquireSlot(state, request('w3', 3, 2), 1000).acquired).toBe(false);
    expect(acquireSlot(state, request('w1', 1, 2), 1000).acquired).toBe(true);
  });

  it('expired holders and waiters are dropped before anything else', () => {
    const state: SlotState = {
      holders: [{ holder: 'dead', acquiredMs: 0, expiresMs: 1000 }],
      queue: [{ holder: 'gone', enqueuedMs: 0, expiresMs: 1000 }],
    };
    const { state: after, acquired } = acquireSlot(state, request('new', 50), 1000);
    expect(acquired).toBe(true);
    expect(after).toEqual({ holders: [{ holder: 'new', acquiredMs: 1000, expiresMs: 1100 }], queue: [] });
  });
});

describe('liveHolders and lastExpiry', () => {
  const state: SlotState = {
    holders: [
      { holder: 'b', acquiredMs: 10, expiresMs: 3000 },
      { holder: 'a', acquiredMs: 10, expiresMs: 2000 },
      { holder: 'old', acquiredMs: 0, expiresMs: 500 },
    ],
    queue: [{ holder: 'w', enqueuedMs: 0, expiresMs: 4000 }],
  };

  it('lists unexpired holders by when they took the slot, then id', () => {
    expect(liveHolders(state, 1000)).toEqual(['a', 'b']);
  });

  it('is the last expiry of anything in the state, or now', () => {
    expect(lastExpiry(state, 1000)).toBe(4000);
    expect(lastExpiry(EMPTY, 1000)).toBe(1000);
  });
});
