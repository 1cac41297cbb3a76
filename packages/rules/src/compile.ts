/**
 * A rule compiled once: criteria validated and ready to evaluate, parameter templates parsed, the
 * trigger parameters and equality predicates extracted for the index.
 */
import {
  ValidationError,
  type ErrorDetail,
  type EventContext,
  type JsonObject,
  type JsonValue,
  type Rule,
} from '@reflex/model';
import type { Clock } from './clock.ts';
import { compileCriteria, criteriaProblems, type CompiledCriteria, type CriteriaResult, type EvaluateOptions } from './criteria.ts';
import { equalityPredicates, type EqualityPredicate } from './equality.ts';
import { compileNoise, noiseProblems, type CompiledNoise } from './noise/spec.ts';
import { compileTemplateValue, kvReferences, renderCompiledValue, type CompiledValue, type KvReferences } from './templates.ts';

export interface CompileOptions {
  /** Clock for `timediff` (milliseconds since the epoch); defaults to `Date.now`. */
  now?: Clock;
}

export interface CompiledRule {
  readonly ref: string;
  /** The rule as given. */
  readonly rule: Rule;
  readonly enabled: boolean;
  readonly triggerType: string;
  /** `undefined` when the rule listens to every instance of its trigger type. */
  readonly triggerParameters: JsonObject | undefined;
  readonly criteria: CompiledCriteria;
  /** Conjuncts `{"==": [{"var": path}, literal]}` of the criteria, used by the index. */
  readonly equalities: readonly EqualityPredicate[];
  /** The rule's throttle or group, prepared (undefined when it has neither). */
  readonly noise: CompiledNoise | undefined;
  /** Evaluates the criteria; never throws (an evaluation error is `{ matched: false, error }`). */
  evaluate(ctx: EventContext, options?: EvaluateOptions): CriteriaResult;
  /** `evaluate(ctx).matched`. */
  matches(ctx: EventContext): boolean;
  /**
   * Datastore keys the parameter templates read (`kv.system.<name>`, `kv.pack.<name>` of the rule's
   * pack): the caller loads them into `ctx.kv` before `renderParameters`.
   */
  readonly kv: Readonly<KvReferences>;
  /** Renders the action parameters; throws ValidationError naming `action.parameters.<key>`. */
  renderParameters(ctx: EventContext): JsonObject;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Where `value` stops being JSON, as details under `field`. */
function jsonProblems(value: unknown, field: string, out: ErrorDetail[], depth = 0): void {
  if (depth > 64) {
    out.push({ field, message: 'is nested too deeply' });
    return;
  }
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) out.push({ field, message: 'must be a finite number' });
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => jsonProblems(item, `${field}.${i}`, out, depth + 1));
    return;
  }
  if (isPlainObject(value)) {
    for (const [key, item] of Object.entries(value)) jsonProblems(item, `${field}.${key}`, out, depth + 1);
    return;
  }
  out.push({ field, message: `is not a JSON value (${typeof value})` });
}

function checkObject(value: unknown, field: string, out: ErrorDetail[]): value is JsonObject | undefined {
  if (value === undefined) return true;
  if (!isPlainObject(value)) {
    out.push({ field, message: 'must be an object' });
    return false;
  }
  const before = out.length;
  jsonProblems(value, field, out);
  return out.length === before;
}

function nonEmptyString(value: unknown, field: string, out: ErrorDetail[]): value is string {
  if (typeof value === 'string' && value !== '') return true;
  out.push({ field, message: 'must be a non-empty string' });
  return false;
}

/**
 * Validates and prepares `rule`. Throws one ValidationError listing every problem, each `field`
 * rooted at `ref`, `trigger.type`, `trigger.parameters`, `criteria...`, `action.ref` or
 * `action.parameters.<name>...`.
 */
export function compileRule(rule: Rule, options: CompileOptions = {}): CompiledRule {
  const details: ErrorDetail[] = [];
  if (!isPlainObject(rule)) throw new ValidationError('rule must be an object', [{ field: 'rule', message: 'must be an object' }]);
  nonEmptyString(rule.ref, 'ref', details);
  const trigger: unknown = rule.trigger;
  const action: unknown = rule.action;
  if (!isPlainObject(trigger)) details.push({ field: 'trigger', message: 'must be an object' });
  else {
    nonEmptyString(trigger['type'], 'trigger.type', details);
    checkObject(trigger['parameters'], 'trigger.parameters', details);
  }
  details.push(...criteriaProblems(rule.criteria, 'criteria'));
  details.push(...noiseProblems(rule));

  const templates: Array<[string, CompiledValue]> = [];
  if (!isPlainObject(action)) details.push({ field: 'action', message: 'must be an object' });
  else {
    nonEmptyString(action['ref'], 'action.ref', details);
    const parameters = action['parameters'];
    if (checkObject(parameters, 'action.parameters', details) && parameters !== undefined) {
      for (const [name, value] of Object.entries(parameters)) {
        const field = `action.parameters.${name}`;
        try {
          templates.push([name, compileTemplateValue(value, field)]);
        } catch (err) {
          if (!(err instanceof ValidationError)) throw err;
          details.push(...(err.details ?? [{ field, message: err.message }]));
        }
      }
    }
  }

  if (details.length > 0) {
    const first = details[0]!;
    const name = typeof rule.ref === 'string' && rule.ref !== '' ? `rule '${rule.ref}'` : 'rule';
    throw new ValidationError(`${name} is invalid: ${first.field} ${first.message}`, details);
  }

  const criteria = compileCriteria(rule.criteria as JsonValue | undefined);
  const triggerParameters =
    rule.trigger.parameters !== undefined && Object.keys(rule.trigger.parameters).length > 0 ? rule.trigger.parameters : undefined;
  const defaults: EvaluateOptions = options.now === undefined ? {} : { now: options.now };
  const evaluate = (ctx: EventContext, opts?: EvaluateOptions): CriteriaResult =>
    criteria.evaluate(ctx, opts?.now === undefined ? defaults : opts);

  const kv: KvReferences = { system: [], pack: [] };
  for (const [, compiled] of templates) kvReferences(compiled, kv);

  return {
    ref: rule.ref,
    rule,
    kv,
    enabled: rule.enabled !== false,
    triggerType: rule.trigger.type,
    triggerParameters,
    criteria,
    equalities: equalityPredicates(rule.criteria),
    noise: compileNoise(rule),
    evaluate,
    matches: (ctx) => evaluate(ctx).matched,
    renderParameters(ctx) {
      const out: JsonObject = {};
      for (const [name, compiled] of templates) out[name] = renderCompiledValue(compiled, ctx, `action.parameters.${name}`);
      return out;
    },
  };
}
