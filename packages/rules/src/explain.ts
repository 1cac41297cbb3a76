/**
 * Why criteria did or did not match an event: each condition of a top-level `and` (or the whole
 * criteria otherwise) evaluated on its own, with the values its `var`s read. For `reflex rule test`
 * and backtests; pure, like the rest of the matcher.
 */
import type { ErrorJson, EventContext, JsonValue } from '@reflex/model';
import { compileCriteria, type EvaluateOptions } from './criteria.ts';

export interface CriterionOutcome {
  /** Where the condition sits in the rule: `criteria`, `criteria.and.1`. */
  field: string;
  criteria: JsonValue;
  matched: boolean;
  error?: ErrorJson;
  /** The value each `var` of the condition read (`undefined` paths are absent: the event has no such field). */
  values: Record<string, JsonValue>;
}

function isObject(value: unknown): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The literal paths read by `var` (and `exists`) inside a condition. */
function varPaths(node: JsonValue, out: Set<string>): void {
  if (Array.isArray(node)) {
    for (const item of node) varPaths(item, out);
    return;
  }
  if (!isObject(node)) return;
  for (const [op, arg] of Object.entries(node)) {
    if (op === 'var' || op === 'exists') {
      const path = Array.isArray(arg) ? arg[0] : arg;
      if (typeof path === 'string' && path !== '') out.add(path);
      else if (typeof path === 'number') out.add(String(path));
    } else varPaths(arg, out);
  }
}

function read(ctx: EventContext, path: string): JsonValue | undefined {
  let node: unknown = ctx;
  for (const segment of path.split('.')) {
    if (node === null || typeof node !== 'object' || !Object.hasOwn(node, segment)) return undefined;
    node = (node as Record<string, unknown>)[segment];
  }
  return node as JsonValue;
}

function outcome(field: string, criteria: JsonValue, ctx: EventContext, options: EvaluateOptions): CriterionOutcome {
  const result = compileCriteria(criteria, field).evaluate(ctx, options);
  const paths = new Set<string>();
  varPaths(criteria, paths);
  const values: Record<string, JsonValue> = {};
  for (const path of paths) {
    const value = read(ctx, path);
    if (value !== undefined) values[path] = value;
  }
  return { field, criteria, matched: result.matched, ...(result.error === undefined ? {} : { error: result.error }), values };
}

/**
 * The conditions of `criteria` (valid criteria, as a compiled rule has them) on `ctx`: one entry per
 * operand of a top-level `and`, else one for the whole. Empty when there are no criteria.
 */
export function explainCriteria(criteria: JsonValue | undefined, ctx: EventContext, options: EvaluateOptions = {}): CriterionOutcome[] {
  if (criteria === undefined || criteria === null || (isObject(criteria) && Object.keys(criteria).length === 0)) return [];
  if (isObject(criteria)) {
    const keys = Object.keys(criteria);
    const operands = criteria['and'];
    if (keys.length === 1 && keys[0] === 'and' && Array.isArray(operands)) {
      try {
        return operands.map((operand, i) => outcome(`criteria.and.${i}`, operand, ctx, options));
      } catch {
        // An operand that is not criteria on its own (a bare literal): explain the whole instead.
      }
    }
  }
  return [outcome('criteria', criteria, ctx, options)];
}
