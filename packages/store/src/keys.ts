/** Checks shared by both datastore adapters. */
import { ValidationError } from '@reflex/model';
import type { KeyEntry } from './store.ts';
import { timeOf } from './time.ts';

const NAME_MAX = 512;

/** Validates an entry and returns it stamped with `updatedAt`, plus its expiry in epoch ms (or null). */
export function checkKeyEntry(entry: Omit<KeyEntry, 'updatedAt'>): { entry: KeyEntry; expiresMs: number | null } {
  const problems: Array<{ field: string; message: string }> = [];
  if (typeof entry.scope !== 'string' || entry.scope === '' || entry.scope.length > 128) problems.push({ field: 'scope', message: 'must be 1-128 characters' });
  if (typeof entry.name !== 'string' || entry.name === '' || entry.name.length > NAME_MAX) problems.push({ field: 'name', message: `must be 1-${NAME_MAX} characters` });
  if (entry.value === undefined) problems.push({ field: 'value', message: 'is required' });
  if (problems.length > 0) throw new ValidationError(`datastore entry is invalid: ${problems[0]?.field} ${problems[0]?.message}`, problems);
  const expiresMs = entry.expiresAt === undefined ? null : timeOf(entry.expiresAt, 'expiresAt');
  const stamped: KeyEntry = { scope: entry.scope, name: entry.name, value: entry.value, updatedAt: new Date().toISOString() };
  if (entry.secret !== undefined) stamped.secret = entry.secret;
  if (entry.expiresAt !== undefined) stamped.expiresAt = entry.expiresAt;
  return { entry: stamped, expiresMs };
}

export function keyLimit(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 1000), 1), 10_000);
}

/** A LIKE pattern matching names that start with `prefix` (with `\` as the escape). */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
