import { describe, expect, it } from 'vitest';
import { ValidationError } from '@reflex/model';
import { decodeCursor, encodeCursor, pageLimit, toPage } from './cursor.ts';

describe('cursor', () => {
  it('round-trips a position through an opaque base64url string', () => {
    const position = { ms: Date.parse('2025-03-01T12:00:00.123Z'), id: 'evt-01J/ü' };
    const cursor = encodeCursor(position);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor)).toEqual(position);
  });

  it.each([
    ['empty', ''],
    ['not base64url', 'a+b/c='],
    ['not JSON', Buffer.from('{oops').toString('base64url')],
    ['not a pair', Buffer.from('["2025-01-01T00:00:00Z"]').toString('base64url')],
    ['bad time', Buffer.from('["soon","x"]').toString('base64url')],
    ['empty id', Buffer.from('["2025-01-01T00:00:00Z",""]').toString('base64url')],
    ['numbers', Buffer.from('[1,2]').toString('base64url')],
  ])('refuses a malformed cursor (%s) naming the field', (_, cursor) => {
    expect(() => decodeCursor(cursor)).toThrow(ValidationError);
    try {
      decodeCursor(cursor);
    } catch (err) {
      expect(err).toMatchObject({ code: 'VALIDATION_FAILED', details: [{ field: 'cursor' }] });
    }
  });

  it('clamps the limit to 1..1000 with 50 by default', () => {
    expect(pageLimit(undefined)).toBe(50);
    expect(pageLimit(Number.NaN)).toBe(50);
    expect(pageLimit(0)).toBe(1);
    expect(pageLimit(-5)).toBe(1);
    expect(pageLimit(7.9)).toBe(7);
    expect(pageLimit(1000)).toBe(1000);
    expect(pageLimit(1_000_000)).toBe(1000);
  });

  it('gives a next cursor only when a row beyond the limit was fetched', () => {
    const rows = [1, 2, 3].map((n) => ({ ms: n, id: String(n) }));
    expect(toPage(rows, 3, (r) => r)).toEqual({ items: rows });
    const page = toPage(rows, 2, (r) => r);
    expect(page.items).toEqual(rows.slice(0, 2));
    expect(decodeCursor(page.nextCursor ?? '')).toEqual({ ms: 2, id: '2' });
  });
});
