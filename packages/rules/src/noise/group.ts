/**
 * Alert groups, as Alertmanager keeps them, as pure transitions over stored state.
 *
 * Events with the same group key form a group; within it, `alertKey` tells alerts apart. The first
 * event opens the group and schedules its first flush after `groupWait`. Flushes then happen on a
 * fixed cadence (`groupWait + k × groupInterval` after the group opened), but only when there is
 * something to say, so an idle group costs nothing:
 * - a new firing alert (or a firing alert not yet notified) → notify, at the next tick;
 * - an alert notified as firing that has resolved → notify at the next tick (if `notifyResolved`);
 * - nothing changed, alerts still firing → notify again at the first tick `repeatInterval` after
 *   the last notification.
 * A flush drops resolved alerts; a group left with no alerts closes (its state is deleted), and the
 * next firing event opens a new group (a new instance id, a new `groupWait`).
 */
import type { EventContext, JsonObject, JsonValue, ReflexEvent } from '@reflex/model';
import type { CompiledGroup } from './spec.ts';
import {
  fromData,
  iso,
  minDefined,
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

/** Alerts a group tracks; further new alerts are counted in `dropped`. */
export const MAX_GROUP_ALERTS = 500;

type AlertStatus = 'firing' | 'resolved';

interface GroupAlert {
  key: string;
  labels: JsonObject;
  status: AlertStatus;
  firstAt: number;
  lastAt: number;
  count: number;
  /** When its status last changed (or it arrived). */
  changedAt: number;
  /** Set once a notification told people it is firing. */
  notified?: 'firing';
  payload: JsonValue;
  event: JsonObject;
}

interface GroupState {
  v: 1;
  mode: 'group';
  /** The group instance: the id of the event that opened it. */
  id: string;
  key: string;
  labels: JsonObject;
  openedAt: number;
  /** First flush (`openedAt + groupWait`): every later flush is on `base + k × groupInterval`. */
  base: number;
  firstAt: number;
  lastAt: number;
  events: number;
  alerts: GroupAlert[];
  dropped: number;
  /** Notifications so far. */
  seq: number;
  lastNotifiedAt?: number;
  nextFlushAt?: number;
  last: ReflexEvent;
  pending?: PendingFiring;
  recent: string[];
}

/** The group as templates see it (`group`). */
export interface GroupSnapshot extends JsonObject {
  id: string;
  key: string;
  labels: JsonObject;
  seq: number;
  status: AlertStatus;
  count: number;
  firing: number;
  resolved: number;
  firstAt: string;
  lastAt: string;
  events: number;
  dropped: number;
  alerts: JsonObject[];
}

/** The first flush tick at or after `t`. */
function tickAtOrAfter(state: Pick<GroupState, 'base'>, spec: CompiledGroup, t: number): number {
  if (t <= state.base) return state.base;
  return state.base + Math.ceil((t - state.base) / spec.groupIntervalMs) * spec.groupIntervalMs;
}

/** While a firing is pending, the group is next due when its lease runs out; the next tick waits until it is finished. */
function groupDue(state: GroupState): string | undefined {
  const due = state.pending !== undefined ? state.pending.leaseUntil : state.nextFlushAt;
  return due === undefined ? undefined : iso(due);
}

function groupWrite(owner: string, state: GroupState): StateWrite | null {
  if (state.alerts.length === 0 && state.pending === undefined) return null;
  const dueAt = groupDue(state);
  return dueAt === undefined ? { owner, data: toData(state) } : { owner, data: toData(state), dueAt };
}

function decisionWindow(state: GroupState) {
  const dueAt = groupDue(state);
  return { id: state.id, mode: 'group' as const, key: state.key, seq: state.seq, count: state.alerts.length, ...(dueAt === undefined ? {} : { dueAt }) };
}

/** A change to tell people about: schedules the next tick (never sooner than groupInterval after the last notification). */
function scheduleChange(state: GroupState, spec: CompiledGroup, nowMs: number): void {
  if (state.seq === 0) return; // still in group_wait: the first flush is already scheduled
  const earliest = Math.max(nowMs, (state.lastNotifiedAt ?? Number.NEGATIVE_INFINITY) + spec.groupIntervalMs);
  state.nextFlushAt = minDefined(state.nextFlushAt, tickAtOrAfter(state, spec, earliest));
}

/**
 * Folds an event into its group. `alert` identifies the alert within the group; `resolution` says
 * whether the event resolves it (the rule's `resolved` criteria).
 */
export function foldGroup(
  spec: CompiledGroup,
  ident: Identity,
  alert: Identity,
  resolution: boolean,
  owner: string,
  current: CurrentState | null,
  event: ReflexEvent,
  nowMs: number,
): StateChange<NoiseOutcome> {
  const existing = fromData<GroupState>(current, 'group');
  if (existing === null) {
    if (resolution) {
      return {
        result: {
          outcome: 'grouped',
          reason: `resolves alert ${alert.key || '(the group)'} of ${ident.key || 'the rule'}, but no open group holds it: nothing to notify`,
          window: { id: event.id, mode: 'group', key: ident.key },
        },
      };
    }
    const base = nowMs + spec.groupWaitMs;
    const state: GroupState = {
      v: 1,
      mode: 'group',
      id: event.id,
      key: ident.key,
      labels: ident.labels,
      openedAt: nowMs,
      base,
      firstAt: nowMs,
      lastAt: nowMs,
      events: 1,
      alerts: [newAlert(alert, event, nowMs)],
      dropped: 0,
      seq: 0,
      nextFlushAt: base,
      last: event,
      recent: [event.id],
    };
    return {
      write: groupWrite(owner, state),
      result: { outcome: 'grouped', reason: `opened group ${ident.key || '(one group)'}; it fires at ${iso(base)} (group_wait)`, window: decisionWindow(state) },
    };
  }

  if (existing.recent.includes(event.id)) {
    return { result: { outcome: 'grouped', reason: `already in group ${existing.key || '(one group)'}`, window: decisionWindow(existing) } };
  }
  const state: GroupState = { ...existing, alerts: existing.alerts.map((a) => ({ ...a })), recent: remember(existing.recent, event.id), lastAt: nowMs, events: existing.events + 1, last: event };
  const found = state.alerts.find((a) => a.key === alert.key);
  let reason: string;
  if (found === undefined) {
    if (resolution) {
      reason = `resolves alert ${alert.key || '(the group)'}, which group ${state.key || '(one group)'} does not hold (already notified, or never seen): nothing to notify`;
    } else if (state.alerts.length >= MAX_GROUP_ALERTS) {
      state.dropped += 1;
      reason = `group ${state.key || '(one group)'} already tracks ${MAX_GROUP_ALERTS} alerts: counted, not tracked`;
    } else {
      state.alerts.push(newAlert(alert, event, nowMs));
      scheduleChange(state, spec, nowMs);
      reason = `new alert ${alert.key || '(the group)'} in group ${state.key || '(one group)'}`;
    }
  } else {
    const status: AlertStatus = resolution ? 'resolved' : 'firing';
    found.count += 1;
    found.lastAt = nowMs;
    found.payload = event.payload;
    found.event = snapshotOf(event)['event'] as JsonObject;
    if (found.status !== status) {
      found.status = status;
      found.changedAt = nowMs;
      // The next tick decides whether it is worth telling; it also drops a resolved alert (and closes an empty group).
      scheduleChange(state, spec, nowMs);
      reason = `alert ${alert.key || '(the group)'} is now ${status} in group ${state.key || '(one group)'}`;
    } else {
      reason = `repeat of ${status} alert ${alert.key || '(the group)'} in group ${state.key || '(one group)'}: nothing new`;
    }
  }
  const due = groupDue(state);
  return {
    write: groupWrite(owner, state),
    result: { outcome: 'grouped', reason: due === undefined ? reason : `${reason}; the group is next looked at ${due}`, window: decisionWindow(state) },
  };
}

function newAlert(alert: Identity, event: ReflexEvent, nowMs: number): GroupAlert {
  return {
    key: alert.key,
    labels: alert.labels,
    status: 'firing',
    firstAt: nowMs,
    lastAt: nowMs,
    count: 1,
    changedAt: nowMs,
    payload: event.payload,
    event: snapshotOf(event)['event'] as JsonObject,
  };
}

function alertView(a: GroupAlert): JsonObject {
  return { key: a.key, labels: a.labels, status: a.status, firstAt: iso(a.firstAt), lastAt: iso(a.lastAt), count: a.count, payload: a.payload, event: a.event };
}

const byStatusThenKey = (a: GroupAlert, b: GroupAlert): number =>
  a.status === b.status ? (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) : a.status === 'firing' ? -1 : 1;

/**
 * The scheduler's claim on a due group: decides whether this tick notifies and, if so, makes the
 * notification the pending firing (leased to the caller until `now + leaseMs`); a pending firing
 * whose lease ran out is taken over as it is. Returns the firing to perform, or undefined.
 */
export function claimGroup(spec: CompiledGroup, owner: string, current: CurrentState | null, nowMs: number, leaseMs: number): StateChange<PendingFiring | undefined> {
  const existing = fromData<GroupState>(current, 'group');
  // Not a group this version understands: drop it rather than look at it again and again.
  if (existing === null) return { write: current === null ? undefined : null, result: undefined };
  if (existing.pending !== undefined) {
    if (existing.pending.leaseUntil > nowMs) return { result: undefined };
    const pending: PendingFiring = { ...existing.pending, leaseUntil: nowMs + leaseMs };
    return { write: groupWrite(owner, { ...existing, pending }), result: pending };
  }
  // Not due (another replica flushed it first): store it again, which also sets its due time right.
  if (existing.nextFlushAt === undefined || existing.nextFlushAt > nowMs) return { write: groupWrite(owner, existing), result: undefined };

  const state: GroupState = { ...existing, alerts: existing.alerts.map((a) => ({ ...a })) };
  delete state.nextFlushAt;
  if (spec.resolveTimeoutMs !== undefined) {
    for (const a of state.alerts) {
      if (a.status === 'firing' && a.lastAt + spec.resolveTimeoutMs <= nowMs) {
        a.status = 'resolved';
        a.changedAt = nowMs;
      }
    }
  }
  const firing = state.alerts.filter((a) => a.status === 'firing');
  const resolvedToTell = spec.notifyResolved ? state.alerts.filter((a) => a.status === 'resolved' && a.notified === 'firing') : [];
  const changed = firing.some((a) => a.notified !== 'firing') || resolvedToTell.length > 0;
  const repeat = firing.length > 0 && state.lastNotifiedAt !== undefined && nowMs >= state.lastNotifiedAt + spec.repeatIntervalMs;

  let pending: PendingFiring | undefined;
  if (changed || repeat) {
    const shown = [...firing, ...resolvedToTell].sort(byStatusThenKey);
    const seq = state.seq + 1;
    const group: GroupSnapshot = {
      id: state.id,
      key: state.key,
      labels: state.labels,
      seq,
      status: firing.length > 0 ? 'firing' : 'resolved',
      count: shown.length,
      firing: firing.length,
      resolved: resolvedToTell.length,
      firstAt: iso(state.firstAt),
      lastAt: iso(state.lastAt),
      events: state.events,
      dropped: state.dropped,
      alerts: shown.map(alertView),
    };
    pending = { windowId: state.id, seq, mode: 'group', key: state.key, leaseUntil: nowMs + leaseMs, event: state.last, context: { group }, events: state.events };
    state.pending = pending;
    state.seq = seq;
    state.lastNotifiedAt = nowMs;
    for (const a of firing) a.notified = 'firing';
  }
  // Resolved alerts leave the group at every flush, told or not.
  state.alerts = state.alerts.filter((a) => a.status === 'firing');
  if (state.alerts.length > 0) {
    const next: Array<number | undefined> = [];
    if (state.lastNotifiedAt !== undefined) next.push(tickAtOrAfter(state, spec, Math.max(state.lastNotifiedAt + spec.repeatIntervalMs, nowMs + 1)));
    // Alerts arrived but never notified (only possible before the first notification): the next tick.
    if (state.alerts.some((a) => a.notified !== 'firing')) next.push(tickAtOrAfter(state, spec, nowMs + 1));
    if (spec.resolveTimeoutMs !== undefined) {
      const stalest = Math.min(...state.alerts.map((a) => a.lastAt));
      next.push(tickAtOrAfter(state, spec, Math.max(stalest + spec.resolveTimeoutMs, nowMs + 1)));
    }
    const nextFlushAt = minDefined(...next);
    if (nextFlushAt !== undefined) state.nextFlushAt = nextFlushAt;
  }
  return { write: groupWrite(owner, state), result: pending };
}

/** After the pending notification's execution is requested: forget it (and the group, if it holds no alerts). */
export function finishGroup(owner: string, current: CurrentState | null, pending: Pick<PendingFiring, 'windowId' | 'seq'>): StateChange<boolean> {
  const state = fromData<GroupState>(current, 'group');
  if (state?.pending === undefined || state.pending.windowId !== pending.windowId || state.pending.seq !== pending.seq) return { result: false };
  const next: GroupState = { ...state };
  delete next.pending;
  return { write: groupWrite(owner, next), result: true };
}

/** Whether an event resolves its alert, by the rule's `resolved` criteria. */
export function isResolution(spec: CompiledGroup, ctx: EventContext): boolean {
  return spec.resolved?.evaluate(ctx).matched === true;
}
