/**
 * What noise-control state transitions share: the shape of a change (what to store and what it
 * meant), keys of windows and groups, and the firing a window or group hands to the scheduler.
 * The shapes mirror the store's `NoiseStateRepo.update` without importing the store (this package
 * does no I/O): the engine passes these functions to it as they are.
 */
import { createHash } from 'node:crypto';
import type { DecisionOutcome, DecisionWindow, EventContext, JsonObject, JsonValue, ReflexEvent, WindowMode } from '@reflex/model';
import { resolveVar } from '../paths.ts';

/** The state to store for a key: what the store's update takes. */
export interface StateWrite {
  owner: string;
  data: JsonObject;
  dueAt?: string;
  expiresAt?: string;
}

/** A transition's answer: what to store (`null` deletes; absent leaves it) and what it meant. */
export interface StateChange<T> {
  write?: StateWrite | null;
  result: T;
}

/** The stored state a transition reads (the store's NoiseState, structurally). */
export interface CurrentState {
  owner: string;
  data: JsonObject;
}

/** What noise control decided about one event for one rule. */
export interface NoiseOutcome {
  /** `fired`: fire now with this event; `throttled`/`grouped`: not now (maybe later, with the window). */
  outcome: Extract<DecisionOutcome, 'fired' | 'throttled' | 'grouped'>;
  reason: string;
  window: DecisionWindow;
  /** Extra template context of a firing (`window`). */
  context?: JsonObject;
}

/**
 * A firing claimed by the scheduler: everything needed to request the execution, so that whoever
 * finishes it (after a crash, another replica) requests exactly the same one.
 */
export interface PendingFiring {
  windowId: string;
  seq: number;
  mode: WindowMode;
  key: string;
  /** Until then the claimer is at work; after, anyone may take it over. */
  leaseUntil: number;
  /** The last event of the window or group: the enforcement's event, and `payload`/`event` of the templates. */
  event: ReflexEvent;
  /** Extra template context: `{ group }`, or `{ events, window }`. */
  context: JsonObject;
  /** How many events the firing covers. */
  events: number;
}

/**
 * The variables noise control adds to the template context of a firing: `group` (alert groups),
 * `events` and `window` (throttle windows). Spread into the event context before rendering.
 */
export interface NoiseTemplateContext {
  group?: JsonObject;
  events?: JsonValue;
  window?: JsonObject;
}

/** Event ids a state remembers, so a redelivered event is not counted twice. */
export const RECENT_EVENTS = 32;

export function remember(recent: readonly string[], id: string): string[] {
  const next = [...recent, id];
  return next.length > RECENT_EVENTS ? next.slice(next.length - RECENT_EVENTS) : next;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** A value as label text: strings as they are, a missing value as "", anything else as JSON. */
export function labelText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

export interface Identity {
  /** `alertname="HighCPU",cluster="prod"`; "" when there are no paths. */
  key: string;
  labels: JsonObject;
}

/** The values of `paths` in the event context, as a key and as labels named `names`. */
export function identityOf(paths: readonly string[], names: readonly string[], ctx: EventContext): Identity {
  const labels: JsonObject = {};
  const parts: string[] = [];
  paths.forEach((path, i) => {
    const value = resolveVar(ctx, path);
    const name = names[i] ?? path;
    labels[name] = value === undefined ? null : (value as JsonValue);
    parts.push(`${name}=${JSON.stringify(labelText(value))}`);
  });
  return { key: parts.join(','), labels };
}

function digest(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}

/** The store key of a rule's window or group (bounded length, whatever the values). */
export function noiseKey(rule: string, mode: WindowMode, groupKey: string): string {
  return `noise:${rule}:${mode}:${digest(groupKey)}`;
}

/** The event context as templates and `events` lists show it. */
export function snapshotOf(event: ReflexEvent): JsonObject {
  return {
    payload: event.payload,
    event: { id: event.id, type: event.type, source: event.source, occurredAt: event.occurredAt, traceId: event.traceId },
  };
}

/** JSON state data from a typed state (they are JSON by construction). */
export function toData<T extends object>(state: T): JsonObject {
  return state as unknown as JsonObject;
}

/** A typed state from stored data, or null when it is absent or of another kind. */
export function fromData<T extends { mode: string }>(current: CurrentState | null, mode: T['mode']): T | null {
  const data = current?.data;
  if (data === undefined || data['v'] !== 1 || data['mode'] !== mode) return null;
  return data as unknown as T;
}

export function minDefined(...values: Array<number | undefined>): number | undefined {
  let min: number | undefined;
  for (const v of values) if (v !== undefined && (min === undefined || v < min)) min = v;
  return min;
}
