/** Retention: each event, enforcement and execution carries the instant it expires at. */
import { ValidationError } from '@reflex/model';
import { DEFAULT_RETENTION, type RetentionConfig } from './store.ts';

export function resolveRetention(partial: Partial<RetentionConfig> | undefined): RetentionConfig {
  const retention: RetentionConfig = { ...DEFAULT_RETENTION };
  for (const key of ['eventsMs', 'executionsMs'] as const) {
    const value = partial?.[key];
    if (value === undefined) continue;
    if (!Number.isFinite(value) || value < 0) {
      throw new ValidationError(`retention.${key} must be a duration in ms (0 disables)`, [
        { field: `retention.${key}`, message: 'must be a number >= 0' },
      ]);
    }
    retention[key] = value;
  }
  return retention;
}

/** When a record created at `createdMs` expires; null when retention is off (0). */
export function expiryOf(createdMs: number, retentionMs: number): number | null {
  return retentionMs > 0 ? createdMs + retentionMs : null;
}
