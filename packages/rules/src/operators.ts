/**
 * Operators for operations people, registered on json-logic-js's module-level registry once, when
 * this module loads. Each takes evaluated arguments (json-logic evaluates them first) and `this`
 * bound to the current data scope.
 *
 * Conventions: a missing value (null) simply does not match; numbers and booleans are read as
 * their text where text is expected; any other wrong type throws, which the evaluator turns into
 * "not matched" with the reason.
 */
import { now } from './clock.ts';
import { jsonLogic, type Operation } from './json-logic.ts';
import { resolveVar } from './paths.ts';
import { compilePattern, type PatternKind } from './patterns.ts';

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

/** Text for a string operator; `undefined` for a missing value (no match). */
function asText(op: string, role: string, value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new TypeError(`${op}: the ${role} must be a string, got ${typeName(value)}`);
}

function requireString(op: string, role: string, value: unknown): string {
  if (typeof value !== 'string') throw new TypeError(`${op}: the ${role} must be a string, got ${typeName(value)}`);
  return value;
}

function fold(text: string): string {
  return text.toLowerCase();
}

function patternOp(op: string, kind: PatternKind): Operation {
  return (value, pattern) => {
    const source = requireString(op, 'pattern', pattern);
    const text = asText(op, 'value', value);
    if (text === undefined) return false;
    return compilePattern(kind, source).test(text);
  };
}

/** Strings compare without regard to case; anything else compares with `===`. */
export function iequals(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b || fold(a) === fold(b);
  return a === b;
}

function icontains(haystack: unknown, needle: unknown): boolean {
  if (haystack === null || haystack === undefined) return false;
  if (Array.isArray(haystack)) return haystack.some((item) => iequals(item, needle));
  const text = asText('icontains', 'value', haystack);
  const part = asText('icontains', 'searched text', needle);
  if (text === undefined || part === undefined) return false;
  return fold(text).includes(fold(part));
}

function affixOp(op: string, role: string, test: (text: string, affix: string) => boolean, ignoreCase: boolean): Operation {
  return (value, affix) => {
    const a = asText(op, role, affix);
    if (a === undefined) throw new TypeError(`${op}: the ${role} must be a string, got ${typeName(affix)}`);
    const text = asText(op, 'value', value);
    if (text === undefined) return false;
    return ignoreCase ? test(fold(text), fold(a)) : test(text, a);
  };
}

const ISO_8601 =
  /^(\d{4}-\d{2}-\d{2})(?:[Tt ](\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)(Z|z|[+-]\d{2}(?::?\d{2})?)?)?$/;
const EPOCH = /^-?\d+(?:\.\d+)?$/;

/** Epoch numbers below 1e11 are seconds (that is year 5138); larger ones are milliseconds. */
function epochToMs(n: number): number | null {
  if (!Number.isFinite(n)) return null;
  return Math.abs(n) < 1e11 ? n * 1000 : n;
}

/** `Date.parse` rolls 2024-02-30 over into March; a timestamp with an impossible date is unreadable. */
function realDate(date: string): boolean {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const check = new Date(Date.UTC(y, m - 1, d));
  return check.getUTCFullYear() === y && check.getUTCMonth() === m - 1 && check.getUTCDate() === d;
}

/**
 * Milliseconds since the epoch for an ISO-8601 string (a time without an offset is UTC) or epoch
 * seconds/milliseconds (number or digit string); null for anything else.
 */
export function parseTimestamp(value: unknown): number | null {
  if (typeof value === 'number') return epochToMs(value);
  if (typeof value !== 'string') return null;
  const text = value.trim();
  if (EPOCH.test(text)) return epochToMs(Number(text));
  const m = ISO_8601.exec(text);
  if (m === null) return null;
  const [, date, time, zone] = m;
  if (!realDate(date!)) return null;
  let iso = date!;
  if (time !== undefined) {
    let offset = 'Z';
    if (zone !== undefined && zone.toUpperCase() !== 'Z') {
      const digits = zone.slice(1).replace(':', '');
      offset = `${zone[0]}${digits.slice(0, 2)}:${digits.length > 2 ? digits.slice(2) : '00'}`;
    }
    iso += `T${time.replace(',', '.')}${offset}`;
  }
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** Seconds from `timestamp` to now (negative when it is in the future); null when unreadable. */
export function timediff(timestamp: unknown): number | null {
  const ms = parseTimestamp(timestamp);
  if (ms === null) return null;
  const seconds = (now() - ms) / 1000;
  return Number.isFinite(seconds) ? seconds : null;
}

/** Reflex's operators by name: registered on json-logic-js, and called directly by the compiled evaluator. */
export const operations: Readonly<Record<string, Operation>> = {
  regex: patternOp('regex', 'regex'),
  iregex: patternOp('iregex', 'iregex'),
  glob: patternOp('glob', 'glob'),
  iequals: (a, b) => iequals(a, b),
  icontains: (haystack, needle) => icontains(haystack, needle),
  startsWith: affixOp('startsWith', 'prefix', (t, a) => t.startsWith(a), false),
  endsWith: affixOp('endsWith', 'suffix', (t, a) => t.endsWith(a), false),
  istartsWith: affixOp('istartsWith', 'prefix', (t, a) => t.startsWith(a), true),
  iendsWith: affixOp('iendsWith', 'suffix', (t, a) => t.endsWith(a), true),
  exists: function exists(this: unknown, path: unknown) {
    if (typeof path !== 'string' && typeof path !== 'number') {
      throw new TypeError(`exists: the path must be a string, got ${typeName(path)}`);
    }
    const value = resolveVar(this, path);
    return value !== null && value !== undefined;
  },
  timediff: (timestamp) => timediff(timestamp),
};

/** Names of the operators Reflex adds to json-logic. */
export const CUSTOM_OPERATIONS: ReadonlySet<string> = new Set(Object.keys(operations));

let registered = false;

/** Adds Reflex's operators to json-logic-js. Idempotent; runs when this module loads. */
export function registerOperators(): void {
  if (registered) return;
  for (const [name, op] of Object.entries(operations)) jsonLogic.addOperation(name, op);
  registered = true;
}

registerOperators();
