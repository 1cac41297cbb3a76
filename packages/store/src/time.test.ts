import { describe, expect, it } from 'vitest';
import { ValidationError } from '@reflex/model';
import { timeOf } from './time.ts';

describe('timeOf', () => {
  const instant = Date.parse('2025-01-01T00:00:00.000Z');

  it.each([
    '2025-01-01T00:00:00.000Z',
    '2025-01-01T00:00:00Z',
    '2025-01-01T00:00Z',
    '2025-01-01t00:00:00z',
    '2025-01-01 00:00:00Z',
    '2025-01-01T01:00:00+01:00',
    '2025-01-01T01:00:00+0100',
    '2025-01-01T01:00:00+01',
    '2024-12-31T19:00:00-05:00',
    '2025-01-01',
  ])('reads %s as one instant', (value) => {
    expect(timeOf(value, 'at')).toBe(instant);
  });

  it('keeps milliseconds', () => {
    expect(timeOf('2025-01-01T00:00:00.123456Z', 'at')).toBe(instant + 123);
  });

  it.each(['', 'yesterday', '2025-01-01T00:00:00', '1735689600000', '2025-13-01T00:00:00Z', 'March 1, 2025'])(
    'refuses %j, naming the field',
    (value) => {
      expect(() => timeOf(value, 'since')).toThrow(ValidationError);
      expect(() => timeOf(value, 'since')).toThrow(expect.objectContaining({ details: [expect.objectContaining({ field: 'since' })] }));
    },
  );

  it('refuses what is not a string', () => {
    expect(() => timeOf(1735689600000, 'at')).toThrow(ValidationError);
    expect(() => timeOf(undefined, 'at')).toThrow(ValidationError);
  });
});
