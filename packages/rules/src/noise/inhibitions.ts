/**
 * Inhibitions, evaluated. Their criteria read the event context; an active source is state in the
 * store, keyed by the inhibition and the values at its `equal` paths, expiring `duration` after the
 * source was last seen (or deleted by a resolution).
 */
import { createHash } from 'node:crypto';
import {
  parseDuration,
  ValidationError,
  type ErrorDetail,
  type EventContext,
  type Inhibition,
  type JsonObject,
  type JsonValue,
  type ReflexEvent,
} from '@reflex/model';
import { compileCriteria, criteriaProblems, type CompiledCriteria } from '../criteria.ts';
import { resolveVar } from '../paths.ts';
import { canonicalJson } from '../trigger.ts';
import { pathProblems } from './spec.ts';
import { iso, type CurrentState, type StateChange } from './state.ts';

type InhibitionShape = Pick<Inhibition, 'source' | 'target' | 'equal' | 'duration' | 'resolved'>;

/** Every problem of an inhibition, fields rooted at `root`. */
export function inhibitionProblems(inhibition: InhibitionShape, root = ''): ErrorDetail[] {
  const at = (field: string): string => (root === '' ? field : `${root}.${field}`);
  const details: ErrorDetail[] = [];
  for (const part of ['source', 'target'] as const) {
    const value: unknown = inhibition[part];
    if (value === undefined || value === null || (typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0)) {
      details.push({ field: at(part), message: 'is required: JSON-logic criteria (use true for every event)' });
    } else details.push(...criteriaProblems(value, at(part)));
  }
  details.push(...criteriaProblems(inhibition.resolved, at('resolved')));
  details.push(...pathProblems(inhibition.equal, at('equal'), false));
  try {
    parseDuration(inhibition.duration, at('duration'));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    details.push(...(err.details ?? []));
  }
  return details;
}

export interface CompiledInhibition {
  readonly inhibition: Inhibition;
  readonly source: CompiledCriteria;
  readonly target: CompiledCriteria;
  readonly resolved: CompiledCriteria | undefined;
  readonly equal: readonly string[];
  readonly durationMs: number;
}

export function compileInhibition(inhibition: Inhibition): CompiledInhibition {
  const details = inhibitionProblems(inhibition);
  if (details.length > 0) throw new ValidationError(`inhibition '${inhibition.id}' is invalid: ${details[0]!.field} ${details[0]!.message}`, details);
  return {
    inhibition,
    source: compileCriteria(inhibition.source, 'source'),
    target: compileCriteria(inhibition.target, 'target'),
    resolved: inhibition.resolved === undefined || inhibition.resolved === null ? undefined : compileCriteria(inhibition.resolved, 'resolved'),
    equal: inhibition.equal,
    durationMs: parseDuration(inhibition.duration, 'duration'),
  };
}

/** What an event is to an inhibition: a source (starting or ending it), a target, or neither. */
export interface InhibitionRole {
  source: boolean;
  /** A source that also matches `resolved`: it ends the source's activity. */
  resolution: boolean;
  /** A target (never true for an event that is also a source). */
  target: boolean;
  /** The store key of the source state for the event's `equal` values. */
  key: string;
  equalValues: JsonObject;
}

export function inhibitionRole(c: CompiledInhibition, ctx: EventContext): InhibitionRole {
  const equalValues: JsonObject = {};
  for (const path of c.equal) {
    const value = resolveVar(ctx, path);
    equalValues[path] = value === undefined ? null : (value as JsonValue);
  }
  const digest = createHash('sha256').update(canonicalJson(equalValues)).digest('hex').slice(0, 32);
  const source = c.source.evaluate(ctx).matched;
  const resolution = source && c.resolved?.evaluate(ctx).matched === true;
  return { source, resolution, target: !source && c.target.evaluate(ctx).matched, key: `inhibit:${c.inhibition.id}:${digest}`, equalValues };
}

interface SourceState {
  v: 1;
  mode: 'inhibition';
  inhibitionId: string;
  eventId: string;
  seenAt: number;
  equal: JsonObject;
}

export const inhibitionOwner = (id: string): string => `inhibition:${id}`;

/** A source event starts (or extends) the inhibition for its `equal` values; a resolution ends it. */
export function foldInhibitionSource(c: CompiledInhibition, role: InhibitionRole, event: ReflexEvent, nowMs: number): StateChange<'active' | 'ended'> {
  if (role.resolution) return { write: null, result: 'ended' };
  const state: SourceState = { v: 1, mode: 'inhibition', inhibitionId: c.inhibition.id, eventId: event.id, seenAt: nowMs, equal: role.equalValues };
  return {
    write: { owner: inhibitionOwner(c.inhibition.id), data: state as unknown as JsonObject, expiresAt: iso(nowMs + c.durationMs) },
    result: 'active',
  };
}

/** The source event that keeps a stored source state active, if the state is one. */
export function activeSource(current: CurrentState | null): { eventId: string; seenAt: string } | undefined {
  const data = current?.data;
  if (data === undefined || data['v'] !== 1 || data['mode'] !== 'inhibition' || typeof data['eventId'] !== 'string') return undefined;
  return { eventId: data['eventId'], seenAt: iso(Number(data['seenAt'])) };
}
