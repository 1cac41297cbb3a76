/**
 * The second level of the rule index: equality predicates that a rule's criteria requires.
 *
 * For criteria that is an `and` (or a single `==` / `===`) with a conjunct
 * `{"==": [{"var": path}, literal]}`, the rule can only match an event whose value at `path`
 * equals the literal. Rules are filed under keys derived from the literal, and an event looks up
 * the keys derived from its value: whenever `value == literal` (JavaScript's loose equality, which
 * json-logic-js uses) the two key sets share exactly one key, so the index never hides a match.
 *
 * Keys: `s:` string literal, `sn:` the number a numeric string literal reads as, `n:` number or
 * boolean literal (as a number); `S:` / `N:` / `B:` the same for `===`.
 */
import type { JsonValue } from '@reflex/model';

export interface EqualityPredicate {
  /** Dotted path as `var` reads it from the event context (`payload.severity`). */
  path: string;
  operator: '==' | '===';
  literal: string | number | boolean;
  /** The index keys of the literal. */
  keys: readonly string[];
}

function numberKey(n: number): string {
  return String(n);
}

/** Number(text) when JavaScript would compare `text` to a number as that number. */
function numericValue(text: string): number | undefined {
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

export function literalKeys(operator: '==' | '===', literal: string | number | boolean): string[] {
  if (operator === '===') {
    if (typeof literal === 'string') return [`S:${literal}`];
    if (typeof literal === 'number') return [`N:${numberKey(literal)}`];
    return [`B:${String(literal)}`];
  }
  if (typeof literal === 'string') {
    const n = numericValue(literal);
    return n === undefined ? [`s:${literal}`] : [`s:${literal}`, `sn:${numberKey(n)}`];
  }
  if (typeof literal === 'number') return [`n:${numberKey(literal)}`];
  return [`n:${literal ? '1' : '0'}`];
}

function stringValueKeys(text: string, strict: boolean): string[] {
  const keys = [`s:${text}`];
  const n = numericValue(text);
  if (n !== undefined) keys.push(`n:${numberKey(n)}`);
  if (strict) keys.push(`S:${text}`);
  return keys;
}

/** The keys an event value looks up. */
export function valueKeys(value: unknown): string[] {
  if (value === null || value === undefined) return [];
  switch (typeof value) {
    case 'string':
      return stringValueKeys(value, true);
    case 'number': {
      if (Number.isNaN(value)) return [];
      const k = numberKey(value);
      return [`n:${k}`, `sn:${k}`, `N:${k}`];
    }
    case 'boolean': {
      const k = value ? '1' : '0';
      return [`n:${k}`, `sn:${k}`, `B:${String(value)}`];
    }
    case 'object': {
      // `==` turns an object or array into its text first (arrays join, objects "[object Object]").
      let text: string;
      try {
        text = String(value);
      } catch {
        return []; // `==` would throw too: the rule cannot match
      }
      return stringValueKeys(text, false);
    }
    default:
      return [];
  }
}

function isLogic(node: unknown): node is Record<string, unknown> {
  return typeof node === 'object' && node !== null && !Array.isArray(node) && Object.keys(node).length === 1;
}

function varPath(node: unknown): string | undefined {
  if (!isLogic(node) || !('var' in node)) return undefined;
  const raw = node['var'];
  const path = Array.isArray(raw) ? (raw.length === 1 ? raw[0] : undefined) : raw;
  return typeof path === 'string' && path !== '' ? path : undefined;
}

function isLiteral(node: unknown): node is string | number | boolean {
  return typeof node === 'string' || typeof node === 'boolean' || (typeof node === 'number' && Number.isFinite(node));
}

function collect(node: unknown, out: EqualityPredicate[]): void {
  if (!isLogic(node)) return;
  const [operator] = Object.keys(node) as [string];
  const raw = node[operator];
  if (operator === 'and') {
    for (const child of Array.isArray(raw) ? raw : [raw]) collect(child, out);
    return;
  }
  if ((operator !== '==' && operator !== '===') || !Array.isArray(raw) || raw.length !== 2) return;
  const [a, b] = raw as [unknown, unknown];
  const pathA = varPath(a);
  const pathB = varPath(b);
  if (pathA !== undefined && isLiteral(b)) {
    out.push({ path: pathA, operator, literal: b, keys: literalKeys(operator, b) });
  } else if (pathB !== undefined && isLiteral(a)) {
    out.push({ path: pathB, operator, literal: a, keys: literalKeys(operator, a) });
  }
}

/** The equality predicates every match of `criteria` satisfies (empty when there are none). */
export function equalityPredicates(criteria: JsonValue | undefined): EqualityPredicate[] {
  const out: EqualityPredicate[] = [];
  collect(criteria, out);
  return out;
}
