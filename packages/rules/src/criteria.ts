/**
 * Criteria: JSON-logic over the event context `{ payload, event }`. Validated once, when a rule is
 * compiled; evaluated per event without ever throwing (an error is "not matched", with the reason).
 */
import { ValidationError, type ErrorDetail, type ErrorJson, type EventContext, type JsonValue } from '@reflex/model';
import { withClock, type Clock } from './clock.ts';
import { compile } from './compiled-logic.ts';
import { BUILTIN_OPERATIONS, jsonLogic } from './json-logic.ts';
import { CUSTOM_OPERATIONS } from './operators.ts';
import { forbiddenSegment } from './paths.ts';
import { patternProblem, type PatternKind } from './patterns.ts';

export const CRITERIA_LIMITS = Object.freeze({
  /** Operators (and literal arrays) nested inside one another. */
  maxDepth: 32,
  /** Every operator, array and literal counts. */
  maxNodes: 2_000,
});

/** Every operator a criteria may use: json-logic-js's built-ins (without `log`) and Reflex's. */
export const KNOWN_OPERATIONS: ReadonlySet<string> = new Set([...BUILTIN_OPERATIONS, ...CUSTOM_OPERATIONS]);

const PATTERN_OPS: ReadonlyMap<string, PatternKind> = new Map([
  ['regex', 'regex'],
  ['iregex', 'iregex'],
  ['glob', 'glob'],
]);

class TooBig extends Error {}

interface Walk {
  nodes: number;
  details: ErrorDetail[];
}

function typeName(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkPath(path: unknown, field: string, walk: Walk, allowEmpty: boolean): void {
  if (typeof path === 'string' || (typeof path === 'number' && Number.isInteger(path))) {
    const bad = forbiddenSegment(path);
    if (bad !== undefined) walk.details.push({ field, message: `path '${String(path)}' touches '${bad}', which is not allowed` });
    return;
  }
  if (allowEmpty && (path === null || path === undefined)) return;
  walk.details.push({
    field,
    message: `must be a literal path (a string like "payload.host"), got ${typeName(path)}; computed paths are not allowed`,
  });
}

function visit(node: unknown, field: string, depth: number, walk: Walk): void {
  walk.nodes += 1;
  if (walk.nodes > CRITERIA_LIMITS.maxNodes) throw new TooBig();
  if (node === null || typeof node === 'string' || typeof node === 'boolean') return;
  if (typeof node === 'number') {
    if (!Number.isFinite(node)) walk.details.push({ field, message: 'must be a finite number' });
    return;
  }
  if (depth > CRITERIA_LIMITS.maxDepth) {
    walk.details.push({ field, message: `is nested deeper than ${CRITERIA_LIMITS.maxDepth} levels` });
    return;
  }
  if (Array.isArray(node)) {
    node.forEach((item, i) => visit(item, `${field}.${i}`, depth + 1, walk));
    return;
  }
  if (!isPlainObject(node)) {
    walk.details.push({ field, message: `is not a JSON value (${typeName(node)})` });
    return;
  }
  const keys = Object.keys(node);
  if (keys.length !== 1) {
    const listed = keys.length === 0 ? 'none' : keys.map((k) => `'${k}'`).join(', ');
    walk.details.push({ field, message: `an operation is an object with exactly one operator key, got ${listed}` });
    return;
  }
  const op = keys[0]!;
  const opField = `${field}.${op}`;
  if (!KNOWN_OPERATIONS.has(op)) {
    const hint = op === 'log' ? ' (log writes to the engine output and is disabled)' : '';
    walk.details.push({ field: opField, message: `unknown operator '${op}'${hint}` });
    return;
  }
  const raw = node[op];
  const args: unknown[] = Array.isArray(raw) ? raw : [raw];
  const argField = (i: number): string => (Array.isArray(raw) ? `${opField}.${i}` : opField);
  const visitArgs = (from: number): void => {
    for (let i = from; i < args.length; i += 1) visit(args[i], argField(i), depth + 1, walk);
  };

  switch (op) {
    case 'var':
      checkPath(args[0], argField(0), walk, true);
      visitArgs(1);
      return;
    case 'exists':
      checkPath(args[0], argField(0), walk, false);
      visitArgs(1);
      return;
    case 'missing': {
      const first = args[0];
      if (Array.isArray(first)) {
        first.forEach((key, i) => checkPath(key, `${argField(0)}.${i}`, walk, false));
        visitArgs(1);
      } else {
        args.forEach((key, i) => checkPath(key, argField(i), walk, false));
      }
      return;
    }
    case 'missing_some': {
      visit(args[0], argField(0), depth + 1, walk);
      const keys = args[1];
      if (Array.isArray(keys)) keys.forEach((key, i) => checkPath(key, `${argField(1)}.${i}`, walk, false));
      else walk.details.push({ field: argField(1), message: 'must be an array of literal paths' });
      visitArgs(2);
      return;
    }
    default: {
      visitArgs(0);
      const kind = PATTERN_OPS.get(op);
      const pattern = args[1];
      if (kind !== undefined && typeof pattern === 'string') {
        const problem = patternProblem(kind, pattern);
        if (problem !== undefined) walk.details.push({ field: argField(1), message: problem });
      }
    }
  }
}

/** `undefined`, `null` and `{}` mean "no criteria": every event of the trigger matches. */
function isEmptyCriteria(criteria: unknown): boolean {
  return criteria === undefined || criteria === null || (isPlainObject(criteria) && Object.keys(criteria).length === 0);
}

/** The problems of a criteria, each naming its place under `root`; empty when it is valid. */
export function criteriaProblems(criteria: unknown, root = 'criteria'): ErrorDetail[] {
  if (isEmptyCriteria(criteria)) return [];
  const walk: Walk = { nodes: 0, details: [] };
  try {
    visit(criteria, root, 1, walk);
  } catch (err) {
    if (!(err instanceof TooBig)) throw err;
    walk.details.push({ field: root, message: `has more than ${CRITERIA_LIMITS.maxNodes} nodes` });
  }
  return walk.details;
}

function invalid(details: ErrorDetail[], what: string): ValidationError {
  const first = details[0]!;
  return new ValidationError(`${what} is invalid: ${first.field} ${first.message}`, details);
}

/** Throws a ValidationError naming every problem (`criteria.and.1.>.0.var`, ...). */
export function validateCriteria(criteria: unknown, root = 'criteria'): void {
  const details = criteriaProblems(criteria, root);
  if (details.length > 0) throw invalid(details, root);
}

export interface EvaluateOptions {
  /** Clock for `timediff` (milliseconds since the epoch); defaults to `Date.now`. */
  now?: Clock;
}

/** The outcome of criteria on one event; `error` says why evaluation failed (then not matched). */
export interface CriteriaResult {
  matched: boolean;
  error?: ErrorJson;
}

export interface CompiledCriteria {
  /** The criteria as given (`undefined` when the rule has none). */
  readonly source: JsonValue | undefined;
  /** True when there is no criteria: every event matches. */
  readonly always: boolean;
  evaluate(ctx: EventContext, options?: EvaluateOptions): CriteriaResult;
}

const MATCHED: CriteriaResult = Object.freeze({ matched: true });
const NOT_MATCHED: CriteriaResult = Object.freeze({ matched: false });

function evaluationError(err: unknown): ErrorJson {
  const message = err instanceof Error ? err.message : String(err);
  return { name: 'CriteriaError', code: 'CRITERIA_EVALUATION_FAILED', message: `criteria evaluation failed: ${message}` };
}

/** Validates `criteria` (throws ValidationError) and returns its evaluator. */
export function compileCriteria(criteria: JsonValue | undefined, root = 'criteria'): CompiledCriteria {
  validateCriteria(criteria, root);
  if (isEmptyCriteria(criteria)) {
    return { source: criteria, always: true, evaluate: () => MATCHED };
  }
  // Compiled once into closures with json-logic-js's exact semantics (see compiled-logic.ts).
  const run = compile(criteria);
  return {
    source: criteria,
    always: false,
    evaluate(ctx, options) {
      try {
        const now = options?.now;
        const result = now === undefined ? run(ctx) : withClock(now, () => run(ctx));
        return jsonLogic.truthy(result) ? MATCHED : NOT_MATCHED;
      } catch (err) {
        return { matched: false, error: evaluationError(err) };
      }
    },
  };
}
