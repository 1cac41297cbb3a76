/**
 * The concurrency-slot algorithm, as a pure function of one key's state and the time. Both adapters
 * apply it inside their own atomic step (a `BEGIN IMMEDIATE` transaction on SQLite, a versioned
 * compare-and-set on MongoDB), so they agree on every case.
 */
import { ValidationError } from '@reflex/model';
import { timeOf } from './time.ts';

export interface SlotHolder {
  holder: string;
  acquiredMs: number;
  expiresMs: number;
}

export interface SlotWaiter {
  holder: string;
  enqueuedMs: number;
  /** The waiter drops out at this time unless it asks again. */
  expiresMs: number;
}

export interface SlotState {
  holders: SlotHolder[];
  queue: SlotWaiter[];
}

export interface SlotRequest {
  key: string;
  holder: string;
  limit: number;
  ttlMs: number;
  enqueuedMs: number;
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`${field} ${message}`, [{ field, message }]);
}

function checkName(value: unknown, field: string): string {
  if (typeof value !== 'string' || value === '') throw invalid(field, 'must be a non-empty string');
  return value;
}

/** A slot's time to live: a positive number of milliseconds. */
export function checkTtl(ttlMs: unknown): number {
  if (typeof ttlMs !== 'number' || !Number.isFinite(ttlMs) || ttlMs <= 0) throw invalid('ttlMs', 'must be a number > 0');
  return ttlMs;
}

/** The arguments of `acquire`, checked; ValidationError naming the bad one. */
export function slotRequest(key: unknown, holder: unknown, limit: unknown, ttlMs: unknown, enqueuedAt: unknown): SlotRequest {
  if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1) throw invalid('limit', 'must be an integer >= 1');
  return {
    key: checkName(key, 'key'),
    holder: checkName(holder, 'holder'),
    limit,
    ttlMs: checkTtl(ttlMs),
    enqueuedMs: timeOf(enqueuedAt, 'enqueuedAt'),
  };
}

/** The key and holder of `renew` and `release`, checked. */
export function slotMember(key: unknown, holder: unknown): { key: string; holder: string } {
  return { key: checkName(key, 'key'), holder: checkName(holder, 'holder') };
}

/** Queue order: `enqueuedMs`, then holder id. */
export function queueOrder(a: SlotWaiter, b: SlotWaiter): number {
  if (a.enqueuedMs !== b.enqueuedMs) return a.enqueuedMs - b.enqueuedMs;
  return a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : 0;
}

/** Holder order: when acquired, then holder id. */
function holderOrder(a: SlotHolder, b: SlotHolder): number {
  if (a.acquiredMs !== b.acquiredMs) return a.acquiredMs - b.acquiredMs;
  return a.holder < b.holder ? -1 : a.holder > b.holder ? 1 : 0;
}

/** The state without the slots and waiters that have expired by `nowMs`. */
export function withoutExpired(state: SlotState, nowMs: number): SlotState {
  return {
    holders: state.holders.filter((h) => h.expiresMs > nowMs),
    queue: state.queue.filter((w) => w.expiresMs > nowMs),
  };
}

/**
 * One `acquire`: expired slots and waiters go first. A current holder keeps its slot (extended to
 * at least `nowMs + ttlMs`). Anyone else joins the queue (or refreshes its place, keeping its first
 * `enqueuedMs`) and takes a free slot only when fewer waiters are ahead of it than slots are free.
 */
export function acquireSlot(state: SlotState, request: SlotRequest, nowMs: number): { state: SlotState; acquired: boolean } {
  const live = withoutExpired(state, nowMs);
  const expiresMs = nowMs + request.ttlMs;
  const held = live.holders.find((h) => h.holder === request.holder);
  if (held !== undefined) {
    const holders = live.holders.map((h) => (h === held ? { ...h, expiresMs: Math.max(h.expiresMs, expiresMs) } : h));
    return { state: { holders, queue: live.queue.filter((w) => w.holder !== request.holder) }, acquired: true };
  }
  const waiting = live.queue.find((w) => w.holder === request.holder);
  const me: SlotWaiter = { holder: request.holder, enqueuedMs: waiting?.enqueuedMs ?? request.enqueuedMs, expiresMs };
  const queue = [...live.queue.filter((w) => w.holder !== request.holder), me].sort(queueOrder);
  const free = request.limit - live.holders.length;
  if (queue.indexOf(me) >= free) return { state: { holders: live.holders, queue }, acquired: false };
  return {
    state: {
      holders: [...live.holders, { holder: request.holder, acquiredMs: nowMs, expiresMs }],
      queue: queue.filter((w) => w !== me),
    },
    acquired: true,
  };
}

/** The holders of a slot at `nowMs`, in the order they took it. */
export function liveHolders(state: SlotState, nowMs: number): string[] {
  return withoutExpired(state, nowMs).holders.sort(holderOrder).map((h) => h.holder);
}

/** When the last slot or waiter of the state expires (`nowMs` when there is none). */
export function lastExpiry(state: SlotState, nowMs: number): number {
  let last = nowMs;
  for (const entry of [...state.holders, ...state.queue]) last = Math.max(last, entry.expiresMs);
  return last;
}
