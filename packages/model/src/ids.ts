import { createHash, randomBytes } from 'node:crypto';
import { monotonicFactory } from 'ulid';

const nextUlid = monotonicFactory();

/** A new time-sortable id for an event or a manual execution. */
export function newId(now: number = Date.now()): string {
  return nextUlid(now);
}

/** A fresh trace id (W3C trace-context size: 16 bytes hex). */
export function newTraceId(): string {
  return randomBytes(16).toString('hex');
}

function digest(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);
}

/** Derived: the same event and rule always give the same enforcement id. */
export function enforcementIdFor(eventId: string, ruleRef: string): string {
  return `enf-${digest('enforcement', eventId, ruleRef)}`;
}

/** Derived: one enforcement requests exactly one execution. */
export function executionIdFor(enforcementId: string): string {
  return `exe-${digest('execution', enforcementId)}`;
}

/**
 * Derived: the firing number `seq` of the throttle window or alert group `windowId` (the id of the
 * event that opened it) of a rule. A scheduler that fires it again after a crash writes the same ids.
 */
export function windowEnforcementIdFor(ruleRef: string, windowId: string, seq: number): string {
  return `enf-${digest('window', ruleRef, windowId, String(seq))}`;
}

/** Derived: one decision per (event, rule). */
export function decisionIdFor(eventId: string, ruleRef: string): string {
  return `dec-${digest('decision', eventId, ruleRef)}`;
}

/** Derived: the decision that records a window's firing `seq`. */
export function windowDecisionIdFor(ruleRef: string, windowId: string, seq: number): string {
  return `dec-${digest('window-decision', ruleRef, windowId, String(seq))}`;
}

const TRACE_RE = /^[A-Za-z0-9_.:-]{1,128}$/;

/** Accepts a caller's trace id (header `X-Reflex-Trace`) when it is sane, otherwise makes one. */
export function traceIdFrom(header: string | undefined): string {
  return header !== undefined && TRACE_RE.test(header) ? header : newTraceId();
}
