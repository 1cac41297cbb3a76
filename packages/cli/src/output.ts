/**
 * How commands print: `--json` writes the API's objects as JSON (one document per command, errors
 * as `{ "error": … }` on stderr); otherwise tables and YAML for people, with colours only on a
 * terminal and never with NO_COLOR or --no-color.
 */
import { stringify } from 'yaml';
import { ApiError } from '@reflex/api-client';
import { ReflexError, type ErrorDetail } from '@reflex/model';
import type { Writer } from './context.ts';

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39], cyan: [36, 39] } as const;
export type Colour = keyof typeof CODES;

export interface Column<T> {
  header: string;
  value: (row: T) => string;
  colour?: (row: T) => Colour | undefined;
  /** Longest cell before it is cut with `…` (default 60). */
  max?: number;
}

/** An error the user made (bad arguments, a file that does not parse): printed without a stack. */
export class UsageError extends Error {
  readonly details: ErrorDetail[];
  constructor(message: string, details: ErrorDetail[] = [], options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UsageError';
    this.details = details;
  }
}

export function statusColour(status: string): Colour | undefined {
  if (status === 'succeeded' || status === 'fired') return 'green';
  if (status === 'failed' || status === 'timeout') return 'red';
  if (status === 'canceled' || status === 'canceling') return 'dim';
  return 'yellow';
}

function cut(text: string, max: number): string {
  const flat = text.replace(/\s*\n\s*/g, ' ');
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

export class Output {
  readonly #stdout: Writer;
  readonly #stderr: Writer;
  readonly json: boolean;
  readonly #colour: boolean;
  readonly #errColour: boolean;

  constructor(stdout: Writer, stderr: Writer, options: { json: boolean; colour: boolean }) {
    this.#stdout = stdout;
    this.#stderr = stderr;
    this.json = options.json;
    this.#colour = options.colour && stdout.isTTY === true;
    this.#errColour = options.colour && stderr.isTTY === true;
  }

  paint(text: string, colour: Colour | undefined, toStderr = false): string {
    if (colour === undefined || !(toStderr ? this.#errColour : this.#colour)) return text;
    const [on, off] = CODES[colour];
    return `\u001b[${on}m${text}\u001b[${off}m`;
  }

  /** A line on stdout. */
  line(text = ''): void {
    this.#stdout.write(`${text}\n`);
  }

  /** Text on stdout as it is (live output). */
  raw(text: string, toStderr = false): void {
    (toStderr ? this.#stderr : this.#stdout).write(text);
  }

  /** A line on stderr (progress and notes, so stdout stays the result). */
  note(text: string, colour?: Colour): void {
    this.#stderr.write(`${this.paint(text, colour, true)}\n`);
  }

  /** The command's result as JSON. */
  data(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** A value for people: YAML (strings as they are). */
  yaml(value: unknown): void {
    if (typeof value === 'string') this.line(value);
    else this.#stdout.write(stringify(value, { lineWidth: 0 }));
  }

  /** Label/value pairs, aligned. */
  fields(pairs: Array<[string, string | undefined, Colour?]>): void {
    const shown = pairs.filter((p): p is [string, string, Colour?] => p[1] !== undefined);
    const width = Math.max(0, ...shown.map(([label]) => label.length)) + 1;
    for (const [label, value, colour] of shown) this.line(`${this.paint(`${label}:`.padEnd(width + 1), 'bold')}${this.paint(value, colour)}`);
  }

  table<T>(rows: readonly T[], columns: ReadonlyArray<Column<T>>, empty = '(none)'): void {
    if (rows.length === 0) {
      this.note(empty, 'dim');
      return;
    }
    const cells = rows.map((row) => columns.map((c) => cut(c.value(row), c.max ?? 60)));
    const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => (r[i] ?? '').length)));
    const last = columns.length - 1;
    this.line(columns.map((c, i) => this.paint(i === last ? c.header : c.header.padEnd(widths[i] ?? 0), 'bold')).join('  '));
    rows.forEach((row, r) => {
      const line = columns.map((c, i) => {
        const text = cells[r]?.[i] ?? '';
        return this.paint(i === last ? text : text.padEnd(widths[i] ?? 0), c.colour?.(row));
      });
      this.line(line.join('  ').trimEnd());
    });
  }

  /** Prints a failure: what went wrong and every field it names. */
  fail(err: unknown, hint?: string): void {
    const { code, message, details } = describe(err);
    if (this.json) {
      this.#stderr.write(`${JSON.stringify({ error: { code, message, details, ...(hint === undefined ? {} : { hint }) } })}\n`);
      return;
    }
    this.#stderr.write(`${this.paint('reflex:', 'red', true)} ${message}\n`);
    for (const d of details) this.#stderr.write(`  ${d.field === '' ? '' : `${d.field}: `}${d.message}\n`);
    if (hint !== undefined) this.#stderr.write(`${this.paint(hint, 'dim', true)}\n`);
  }
}

export function describe(err: unknown): { code: string; message: string; details: ErrorDetail[] } {
  if (err instanceof ApiError) return { code: err.code, message: err.message, details: err.details };
  if (err instanceof UsageError) return { code: 'USAGE', message: err.message, details: err.details };
  if (err instanceof ReflexError) return { code: err.code, message: err.message, details: err.details ?? [] };
  if (err instanceof Error) return { code: 'ERROR', message: err.message, details: [] };
  return { code: 'ERROR', message: String(err), details: [] };
}

/** `2024-05-01T12:00:03.123Z` → `2024-05-01 12:00:03` (UTC). */
export function shortTime(iso: string | undefined): string {
  if (iso === undefined) return '';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, '');
}

/** Milliseconds → `850ms`, `4.2s`, `3m05s`. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.round(ms))}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
}

/** A JSON value in one table cell. */
export function cell(value: unknown): string {
  if (value === undefined) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
