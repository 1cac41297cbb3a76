/** Checks and helpers shared by both adapters' noise-control repositories. */
import { ValidationError, type Decision } from '@reflex/model';
import type { NoiseState, NoiseStateWrite } from './store.ts';
import { timeOf } from './time.ts';

const KEY_MAX = 2048;

export function checkNoiseKey(key: string): void {
  if (typeof key !== 'string' || key === '' || key.length > KEY_MAX) {
    throw new ValidationError(`noise state key must be 1-${KEY_MAX} characters`, [{ field: 'key', message: `must be 1-${KEY_MAX} characters` }]);
  }
}

/** A write made into the stored record, with its times in epoch ms; a bad time is a ValidationError. */
export function stampNoiseState(
  key: string,
  write: NoiseStateWrite,
  version: number,
): { state: NoiseState; dueMs: number | null; expiresMs: number | null } {
  const dueMs = write.dueAt === undefined ? null : timeOf(write.dueAt, 'dueAt');
  const expiresMs = write.expiresAt === undefined ? null : timeOf(write.expiresAt, 'expiresAt');
  if (typeof write.owner !== 'string' || write.owner === '') {
    throw new ValidationError('noise state owner is required', [{ field: 'owner', message: 'must be a non-empty string' }]);
  }
  const state: NoiseState = { key, owner: write.owner, data: write.data, version, updatedAt: new Date().toISOString() };
  if (write.dueAt !== undefined) state.dueAt = write.dueAt;
  if (write.expiresAt !== undefined) state.expiresAt = write.expiresAt;
  return { state, dueMs, expiresMs };
}

export function noiseLimit(limit: number | undefined, fallback: number): number {
  return Math.min(Math.max(Math.trunc(limit ?? fallback), 1), 10_000);
}

/** The time a decision sorts and expires by. */
export function decisionTime(decision: Decision): number {
  return timeOf(decision.at, 'decision.at');
}
