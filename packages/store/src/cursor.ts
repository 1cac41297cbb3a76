/**
 * Keyset paging shared by both adapters. Pages run newest first: `createdAt` desc, then `id` desc.
 * A cursor is the position of the last item of a page, base64url of `[createdAt, id]`; the next
 * page holds what sorts strictly after it. Clients treat it as opaque.
 */
import { ValidationError } from '@reflex/model';
import type { Page, PageOptions } from './store.ts';

export const DEFAULT_PAGE_LIMIT = 50;
export const MAX_PAGE_LIMIT = 1000;

/** Where a record sits in the newest-first order: epoch milliseconds of its time, then its id. */
export interface Position {
  ms: number;
  id: string;
}

/** What an adapter needs to fetch one page: fetch `limit + 1` rows after `after`. */
export interface PageQuery {
  limit: number;
  after?: Position;
}

export function encodeCursor(position: Position): string {
  return Buffer.from(JSON.stringify([new Date(position.ms).toISOString(), position.id]), 'utf8').toString('base64url');
}

const BASE64URL = /^[A-Za-z0-9_-]+$/;

function malformed(): ValidationError {
  return new ValidationError('cursor is malformed', [{ field: 'cursor', message: 'is not a cursor from a previous page' }]);
}

export function decodeCursor(cursor: string): Position {
  if (typeof cursor !== 'string' || !BASE64URL.test(cursor)) throw malformed();
  let decoded: unknown;
  try {
    decoded = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    // Not JSON inside: the client sent something that never came from us.
    throw malformed();
  }
  if (!Array.isArray(decoded) || decoded.length !== 2) throw malformed();
  const [time, id] = decoded as unknown[];
  if (typeof time !== 'string' || typeof id !== 'string' || id === '') throw malformed();
  const ms = Date.parse(time);
  if (!Number.isFinite(ms)) throw malformed();
  return { ms, id };
}

/** Default 50; clamped to 1..1000. */
export function pageLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_PAGE_LIMIT;
  return Math.min(MAX_PAGE_LIMIT, Math.max(1, Math.floor(limit)));
}

export function pageQuery(page: PageOptions | undefined): PageQuery {
  const limit = pageLimit(page?.limit);
  return page?.cursor === undefined ? { limit } : { limit, after: decodeCursor(page.cursor) };
}

/** Turns `limit + 1` fetched rows into a page; the extra row only says there is more. */
export function toPage<T>(rows: T[], limit: number, positionOf: (item: T) => Position): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return last === undefined ? { items } : { items, nextCursor: encodeCursor(positionOf(last)) };
}
