/**
 * Throttle windows, one per rule and group key, as pure transitions over stored state:
 * - `once_within`: the first event fires; the rest are suppressed until the window has passed;
 * - `threshold`: fires when `threshold` events arrived within the window (sliding), then stays
 *   quiet for a window;
 * - `once_after`: the first event opens a window that collects; when it closes the scheduler fires
 *   once with every event collected (`claimOnceAfter`, then `finishOnceAfter`).
 * Each function gets the current state (null when none) and `now`, and says what to store.
 */
import type { JsonObject, ReflexEvent } from '@reflex/model';
import type { CompiledThrottle } from './spec.ts';
import {
  fromData,
  iso,
  remember,
  snapshotOf,
  toData,
  type CurrentState,
  type Identity,
  type NoiseOutcome,
  type PendingFiring,
  type StateChange,
  type StateWrite,
} from './state.ts';

/** Events a once_after window keeps for its templates (it counts them all). */
export const MAX_WINDOW_EVENTS = 100;

interface OnceWithinState {
  v: 1;
  mode: 'once_within';
  id: string;
  key: string;
  labels: JsonObject;
  firedEventId: string;
  openedAt: number;
  until: number;
  suppressed: number;
  recent: string[];
}

interface ThresholdState {
  v: 1;
  mode: 'threshold';
  /** The event that started the current count (or that fired, while quiet). */
  id: string;
  key: string;
  labels: JsonObject;
  /** Arrival times of the events counted, oldest first (each within a window of now). */
  times: number[];
  quietUntil?: number;
  firedEventId?: string;
  recent: string[];
}

interface OnceAfterWindow {
  id: string;
  openedAt: number;
  closesAt: number;
  count: number;
  events: JsonObject[];
  last: ReflexEvent;
}

interface OnceAfterState {
  v: 1;
  mode: 'once_after';
  key: string;
  labels: JsonObject;
  current?: OnceAfterWindow;
  pending?: PendingFiring;
  recent: string[];
}

function windowContext(spec: CompiledThrottle, ident: Identity, count: number, firstAt: number, lastAt: number): JsonObject {
  return { window: { mode: spec.mode, key: ident.key, labels: ident.labels, count, firstAt: iso(firstAt), lastAt: iso(lastAt) } };
}

export function foldOnceWithin(
  spec: CompiledThrottle,
  ident: Identity,
  owner: string,
  current: CurrentState | null,
  event: ReflexEvent,
  nowMs: number,
): StateChange<NoiseOutcome> {
  const state = fromData<OnceWithinState>(current, 'once_within');
  if (state !== null && nowMs < state.until) {
    const window = { id: state.id, mode: spec.mode, key: ident.key, dueAt: iso(state.until), count: state.suppressed + 1 };
    if (state.firedEventId === event.id) {
      // This event opened the window and is back (redelivered): it fires again, with the same ids.
      return { result: { outcome: 'fired', reason: `opened the once_within window of ${ident.key || 'the rule'}`, window, context: windowContext(spec, ident, 1, state.openedAt, state.openedAt) } };
    }
    if (state.recent.includes(event.id)) {
      return { result: { outcome: 'throttled', reason: `once_within: already suppressed until ${iso(state.until)}`, window } };
    }
    const next: OnceWithinState = { ...state, suppressed: state.suppressed + 1, recent: remember(state.recent, event.id) };
    return {
      write: { owner, data: toData(next), expiresAt: iso(state.until) },
      result: {
        outcome: 'throttled',
        reason: `once_within: the window opened by event ${state.firedEventId} suppresses repeats until ${iso(state.until)} (${next.suppressed} so far)`,
        window: { ...window, count: next.suppressed + 1 },
      },
    };
  }
  const until = nowMs + spec.windowMs;
  const next: OnceWithinState = {
    v: 1,
    mode: 'once_within',
    id: event.id,
    key: ident.key,
    labels: ident.labels,
    firedEventId: event.id,
    openedAt: nowMs,
    until,
    suppressed: 0,
    recent: [event.id],
  };
  return {
    write: { owner, data: toData(next), expiresAt: iso(until) },
    result: {
      outcome: 'fired',
      reason: `first event of ${ident.key || 'the rule'} in its once_within window (repeats suppressed until ${iso(until)})`,
      window: { id: event.id, mode: spec.mode, key: ident.key, dueAt: iso(until), count: 1 },
      context: windowContext(spec, ident, 1, nowMs, nowMs),
    },
  };
}

export function foldThreshold(
  spec: CompiledThrottle,
  ident: Identity,
  owner: string,
  current: CurrentState | null,
  event: ReflexEvent,
  nowMs: number,
): StateChange<NoiseOutcome> {
  const state = fromData<ThresholdState>(current, 'threshold');
  const of = (s: ThresholdState, count: number) => ({ id: s.id, mode: spec.mode, key: ident.key, count });
  if (state !== null && state.recent.includes(event.id)) {
    if (state.firedEventId === event.id) {
      return { result: { outcome: 'fired', reason: `threshold of ${spec.threshold} reached`, window: of(state, spec.threshold), context: windowContext(spec, ident, spec.threshold, nowMs, nowMs) } };
    }
    return { result: { outcome: 'throttled', reason: 'threshold: this event was already counted', window: of(state, state.times.length) } };
  }
  const expiry = (s: ThresholdState): string => iso(Math.max(s.quietUntil ?? 0, (s.times[s.times.length - 1] ?? nowMs) + spec.windowMs));
  if (state !== null && state.quietUntil !== undefined && nowMs < state.quietUntil) {
    const next: ThresholdState = { ...state, recent: remember(state.recent, event.id) };
    return {
      write: { owner, data: toData(next), expiresAt: expiry(next) },
      result: {
        outcome: 'throttled',
        reason: `threshold: fired on event ${state.firedEventId ?? '?'}; quiet until ${iso(state.quietUntil)}`,
        window: { ...of(state, spec.threshold), dueAt: iso(state.quietUntil) },
      },
    };
  }
  const since = nowMs - spec.windowMs;
  const kept = (state?.times ?? []).filter((t) => t > since);
  const times = [...kept, nowMs];
  const id = kept.length === 0 || state === null ? event.id : state.id;
  const recent = remember(state?.recent ?? [], event.id);
  if (times.length >= spec.threshold) {
    const firstAt = times[0] ?? nowMs;
    const next: ThresholdState = { v: 1, mode: 'threshold', id, key: ident.key, labels: ident.labels, times: [], quietUntil: nowMs + spec.windowMs, firedEventId: event.id, recent };
    return {
      write: { owner, data: toData(next), expiresAt: expiry(next) },
      result: {
        outcome: 'fired',
        reason: `threshold: ${times.length} events of ${ident.key || 'the rule'} within ${spec.windowMs / 1000}s (threshold ${spec.threshold}); quiet until ${iso(nowMs + spec.windowMs)}`,
        window: { id, mode: spec.mode, key: ident.key, count: times.length, dueAt: iso(nowMs + spec.windowMs) },
        context: windowContext(spec, ident, times.length, firstAt, nowMs),
      },
    };
  }
  const next: ThresholdState = { v: 1, mode: 'threshold', id, key: ident.key, labels: ident.labels, times, recent };
  return {
    write: { owner, data: toData(next), expiresAt: expiry(next) },
    result: {
      outcome: 'throttled',
      reason: `threshold: ${times.length} of ${spec.threshold} events within ${spec.windowMs / 1000}s`,
      window: { id, mode: spec.mode, key: ident.key, count: times.length },
    },
  };
}

/** While a firing is pending, the state is next due when its lease runs out; the next window waits until it is finished. */
function onceAfterDue(state: OnceAfterState): string | undefined {
  const due = state.pending !== undefined ? state.pending.leaseUntil : state.current?.closesAt;
  return due === undefined ? undefined : iso(due);
}

function onceAfterWrite(owner: string, state: OnceAfterState): StateWrite | null {
  if (state.current === undefined && state.pending === undefined) return null;
  const dueAt = onceAfterDue(state);
  return dueAt === undefined ? { owner, data: toData(state) } : { owner, data: toData(state), dueAt };
}

export function foldOnceAfter(
  spec: CompiledThrottle,
  ident: Identity,
  owner: string,
  current: CurrentState | null,
  event: ReflexEvent,
  nowMs: number,
): StateChange<NoiseOutcome> {
  const state: OnceAfterState = fromData<OnceAfterState>(current, 'once_after') ?? { v: 1, mode: 'once_after', key: ident.key, labels: ident.labels, recent: [] };
  const open = state.current;
  if (open !== undefined && state.recent.includes(event.id)) {
    return {
      result: {
        outcome: 'grouped',
        reason: `once_after: already collected; the window fires at ${iso(open.closesAt)}`,
        window: { id: open.id, mode: spec.mode, key: ident.key, dueAt: iso(open.closesAt), count: open.count },
      },
    };
  }
  // Events that arrive before the scheduler closes the window still belong to it.
  const window: OnceAfterWindow =
    open === undefined
      ? { id: event.id, openedAt: nowMs, closesAt: nowMs + spec.windowMs, count: 1, events: [snapshotOf(event)], last: event }
      : {
          ...open,
          count: open.count + 1,
          events: open.events.length < MAX_WINDOW_EVENTS ? [...open.events, snapshotOf(event)] : open.events,
          last: event,
        };
  const next: OnceAfterState = { ...state, key: ident.key, labels: ident.labels, current: window, recent: remember(state.recent, event.id) };
  return {
    write: onceAfterWrite(owner, next),
    result: {
      outcome: 'grouped',
      reason:
        open === undefined
          ? `once_after: opened a window for ${ident.key || 'the rule'}; it fires once at ${iso(window.closesAt)} with the events collected`
          : `once_after: collected (${window.count} so far); the window fires at ${iso(window.closesAt)}`,
      window: { id: window.id, mode: spec.mode, key: ident.key, dueAt: iso(window.closesAt), count: window.count },
    },
  };
}

/**
 * The scheduler's claim on a once_after state: a window past its close becomes the pending firing
 * (leased to the caller until `now + leaseMs`), and a pending firing whose lease ran out is taken
 * over. Returns the firing to perform, or undefined when there is nothing (yet) to do.
 */
export function claimOnceAfter(owner: string, current: CurrentState | null, nowMs: number, leaseMs: number): StateChange<PendingFiring | undefined> {
  const state = fromData<OnceAfterState>(current, 'once_after');
  // Not a window this version understands: drop it rather than look at it again and again.
  if (state === null) return { write: current === null ? undefined : null, result: undefined };
  if (state.pending !== undefined) {
    if (state.pending.leaseUntil > nowMs) return { result: undefined };
    const pending: PendingFiring = { ...state.pending, leaseUntil: nowMs + leaseMs };
    return { write: onceAfterWrite(owner, { ...state, pending }), result: pending };
  }
  const window = state.current;
  // Not due (another replica claimed it first): store it again, which also sets its due time right.
  if (window === undefined || window.closesAt > nowMs) return { write: onceAfterWrite(owner, state), result: undefined };
  const pending: PendingFiring = {
    windowId: window.id,
    seq: 1,
    mode: 'once_after',
    key: state.key,
    leaseUntil: nowMs + leaseMs,
    event: window.last,
    events: window.count,
    context: {
      events: window.events,
      window: { mode: 'once_after', key: state.key, labels: state.labels, count: window.count, firstAt: iso(window.openedAt), lastAt: window.last.occurredAt, closedAt: iso(nowMs) },
    },
  };
  const next: OnceAfterState = { ...state, pending };
  delete next.current;
  return { write: onceAfterWrite(owner, next), result: pending };
}

/** After the pending firing's execution is requested: forget it (and the state, if nothing else is open). */
export function finishOnceAfter(owner: string, current: CurrentState | null, pending: Pick<PendingFiring, 'windowId' | 'seq'>): StateChange<boolean> {
  const state = fromData<OnceAfterState>(current, 'once_after');
  if (state?.pending === undefined || state.pending.windowId !== pending.windowId || state.pending.seq !== pending.seq) return { result: false };
  const next: OnceAfterState = { ...state };
  delete next.pending;
  return { write: onceAfterWrite(owner, next), result: true };
}
