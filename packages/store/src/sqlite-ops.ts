/** What the SQLite repositories need of the connection: cached statements and one transaction helper. */
import type { SQLInputValue } from 'node:sqlite';

export type Row = Record<string, unknown>;

export interface SqliteOps {
  get(text: string, ...params: SQLInputValue[]): Row | undefined;
  all(text: string, ...params: SQLInputValue[]): Row[];
  /** Runs a statement; returns how many rows it changed. */
  run(text: string, ...params: SQLInputValue[]): number;
  /** Runs `work` in one write transaction (BEGIN IMMEDIATE takes the write lock up front). */
  transaction<T>(work: () => T): T;
}
