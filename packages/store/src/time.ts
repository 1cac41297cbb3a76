/**
 * Record times are ISO-8601 / RFC 3339 strings in the model; adapters order, filter and expire by
 * their epoch milliseconds, so `2025-01-01T00:00:00Z` and `2025-01-01T01:00:00.000+01:00` are one
 * instant wherever they are compared.
 */
import { ValidationError } from '@reflex/model';

/**
 * A calendar date (midnight UTC), or a date-time with a zone: `T`, `t` or a space between date and
 * time, seconds and fraction optional, `Z` or an offset `±HH`, `±HHMM`, `±HH:MM`. A time without a
 * zone is refused: it would mean a different instant on every machine.
 */
const RFC3339 = /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?)(?:([Zz])|([+-]\d{2})(?::?(\d{2}))?))?$/;

function parse(value: string): number {
  const m = RFC3339.exec(value);
  if (m === null) return Number.NaN;
  const [, date, time, zulu, offsetHours, offsetMinutes] = m;
  if (time === undefined) return Date.parse(`${date}T00:00:00Z`);
  const zone = zulu !== undefined ? 'Z' : `${offsetHours}:${offsetMinutes ?? '00'}`;
  return Date.parse(`${date}T${time}${zone}`);
}

/** Epoch milliseconds of an ISO time; ValidationError naming `field` when it is not one. */
export function timeOf(value: unknown, field: string): number {
  const ms = typeof value === 'string' ? parse(value) : Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new ValidationError(`${field} is not an ISO-8601 time`, [{ field, message: 'must be an ISO-8601 time with a zone' }]);
  }
  return ms;
}
