/** The execution state machine as both adapters apply it. */
import {
  ConflictError,
  EXECUTION_STATUSES,
  NotFoundError,
  ValidationError,
  canTransition,
  sourcesOf,
  type ExecutionHistoryEntry,
  type ExecutionStatus,
} from '@reflex/model';
import type { ExecutionPatch } from './store.ts';

/**
 * The patchable fields, in a fixed order so a statement per field set can be cached. `reason` is
 * not one: it goes only into the history entry.
 */
export const PATCH_FIELDS = ['result', 'error', 'host', 'attempt', 'startedAt', 'finishedAt', 'waitKey'] as const;
export type PatchField = (typeof PATCH_FIELDS)[number];

/**
 * The statuses a compare-and-set may expect when moving to `to`: the caller's `from` (default:
 * every legal source), minus any the state machine forbids. May be empty.
 */
export function transitionSources(to: ExecutionStatus, from?: ExecutionStatus[]): ExecutionStatus[] {
  if (!(EXECUTION_STATUSES as readonly string[]).includes(to)) {
    throw new ValidationError(`'${String(to)}' is not an execution status`, [
      { field: 'status', message: `must be one of ${EXECUTION_STATUSES.join(', ')}` },
    ]);
  }
  if (from === undefined) return sourcesOf(to);
  return [...new Set(from)].filter((status) => canTransition(status, to));
}

/** The patch's known fields that carry a value (an `undefined` field is no change). */
export function patchEntries(patch: ExecutionPatch | undefined): [PatchField, unknown][] {
  if (patch === undefined) return [];
  return PATCH_FIELDS.filter((field) => patch[field] !== undefined).map((field) => [field, patch[field]]);
}

/** What a transition to `to` at `updatedAt` appends to the execution's history. */
export function historyEntry(to: ExecutionStatus, updatedAt: string, patch: ExecutionPatch | undefined): ExecutionHistoryEntry {
  const entry: ExecutionHistoryEntry = { status: to, at: updatedAt };
  if (patch?.attempt !== undefined) entry.attempt = patch.attempt;
  if (patch?.reason !== undefined) entry.reason = patch.reason;
  return entry;
}

/**
 * The error for a transition that changed nothing: the record is absent (NotFoundError), or its
 * current status is not one the move may start from (ConflictError ILLEGAL_TRANSITION, naming it).
 */
export function refusedTransition(
  id: string,
  current: ExecutionStatus | undefined,
  to: ExecutionStatus,
  sources: readonly ExecutionStatus[],
): Error {
  if (current === undefined) return new NotFoundError('execution', id);
  const why = canTransition(current, to)
    ? `the caller expected ${sources.length === 0 ? 'no status' : sources.join(' or ')}`
    : `${current} cannot move to ${to}`;
  return new ConflictError(`execution '${id}' is ${current}: ${why}`, 'ILLEGAL_TRANSITION');
}
