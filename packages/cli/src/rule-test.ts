/**
 * Would a rule fire on an event, with what parameters, and if not, why not: the same steps the
 * rules engine takes (trigger type, trigger parameters, criteria, action, rendered and validated
 * parameters), each reported. No I/O: the command fetches the rule, action and keys and calls this.
 */
import {
  eventContext,
  makeRef,
  ReflexError,
  ruleInputSchema,
  validateModel,
  validateUser,
  type Action,
  type ErrorDetail,
  type JsonObject,
  type JsonValue,
  type KvContext,
  type ReflexEvent,
  type Rule,
  type RuleInput,
} from '@reflex/model';
import { ruleNoiseKeysToModel } from '@reflex/packs';
import { compileRule, explainCriteria, triggerParametersMatch, type CompiledRule, type CriterionOutcome } from '@reflex/rules';
import { isObject } from './args.ts';
import { UsageError } from './output.ts';

export type CheckName = 'rule' | 'enabled' | 'trigger.type' | 'trigger.parameters' | 'criteria' | 'action' | 'parameters';

export interface RuleCheck {
  check: CheckName;
  ok: boolean;
  message: string;
  details?: ErrorDetail[];
}

export interface RuleTestReport {
  rule: string;
  event: { id: string; type: string; triggerParameters?: JsonObject };
  /** True when every check passed: the engine would request an execution. */
  fires: boolean;
  checks: RuleCheck[];
  /** Each condition of the criteria, with the values it read. */
  criteria: CriterionOutcome[];
  /** What the action would get (datastore secrets masked unless they were decrypted). */
  parameters?: JsonObject;
}

export interface RuleTestInput {
  rule: Rule;
  event: ReflexEvent;
  /** undefined: no such action is registered. */
  action: Action | undefined;
  kv?: KvContext;
  now?: () => number;
}

function fail(err: unknown): { message: string; details: ErrorDetail[] } {
  if (err instanceof ReflexError) return { message: err.message, details: err.details ?? [] };
  return { message: err instanceof Error ? err.message : String(err), details: [] };
}

export function compileForTest(rule: Rule): CompiledRule | RuleCheck {
  try {
    return compileRule(rule);
  } catch (err) {
    const { message, details } = fail(err);
    return { check: 'rule', ok: false, message, details };
  }
}

export function testRule(input: RuleTestInput): RuleTestReport {
  const { rule, event, action } = input;
  const report: RuleTestReport = {
    rule: rule.ref,
    event: { id: event.id, type: event.type, ...(event.triggerParameters === undefined ? {} : { triggerParameters: event.triggerParameters }) },
    fires: false,
    checks: [],
    criteria: [],
  };
  const compiled = compileForTest(rule);
  if (!('evaluate' in compiled)) {
    report.checks.push(compiled);
    return report;
  }
  const checks = report.checks;
  checks.push(rule.enabled ? { check: 'enabled', ok: true, message: 'the rule is enabled' } : { check: 'enabled', ok: false, message: 'the rule is disabled' });
  checks.push(
    event.type === rule.trigger.type
      ? { check: 'trigger.type', ok: true, message: `the event is a ${event.type}` }
      : { check: 'trigger.type', ok: false, message: `the rule listens to ${rule.trigger.type}, the event is a ${event.type}` },
  );
  checks.push(
    triggerParametersMatch(compiled.triggerParameters, event.triggerParameters)
      ? { check: 'trigger.parameters', ok: true, message: compiled.triggerParameters === undefined ? 'the rule listens to every instance' : `the event is for ${JSON.stringify(compiled.triggerParameters)}` }
      : {
          check: 'trigger.parameters',
          ok: false,
          message: `the rule listens to ${JSON.stringify(compiled.triggerParameters)}, the event is for ${JSON.stringify(event.triggerParameters ?? {})}`,
        },
  );

  const ctx = { ...eventContext(event), ...(input.kv === undefined ? {} : { kv: input.kv }) };
  const options = input.now === undefined ? {} : { now: input.now };
  const result = compiled.evaluate(ctx, options);
  report.criteria = explainCriteria(rule.criteria, ctx, options);
  if (result.matched) {
    checks.push({ check: 'criteria', ok: true, message: compiled.criteria.always ? 'the rule has no criteria' : 'the criteria match' });
  } else {
    const failing = report.criteria.filter((c) => !c.matched).map((c) => c.field);
    const why = result.error?.message ?? (failing.length > 0 && failing[0] !== 'criteria' ? `not met: ${failing.join(', ')}` : 'the criteria do not match');
    checks.push({ check: 'criteria', ok: false, message: why });
  }

  if (action === undefined) checks.push({ check: 'action', ok: false, message: `no action '${rule.action.ref}' is registered` });
  else if (!action.enabled) checks.push({ check: 'action', ok: false, message: `action '${action.ref}' is disabled` });
  else checks.push({ check: 'action', ok: true, message: `runs ${action.ref} (runner ${action.runner})` });

  try {
    const parameters = compiled.renderParameters(ctx);
    report.parameters = parameters;
    if (action !== undefined) validateUser(action.parametersSchema, parameters, 'parameters', `parameters of ${action.ref}`);
    checks.push({ check: 'parameters', ok: true, message: action === undefined ? 'rendered (not checked: no action)' : `rendered and valid for ${action.ref}` });
  } catch (err) {
    const { message, details } = fail(err);
    checks.push({ check: 'parameters', ok: false, message, details });
  }
  report.fires = checks.every((c) => c.ok);
  return report;
}

/**
 * A draft rule from a file: the API's JSON (`pack`, `name`, …) or a pack's rule YAML (no `pack`:
 * give it, or it is `draft`). Shape errors name the field.
 */
export function draftRule(document: unknown, pack: string | undefined, now = new Date().toISOString()): Rule {
  if (!isObject(document)) throw new UsageError('the rule file must hold one rule (a mapping)');
  const { ref: _ref, ...rest } = ruleNoiseKeysToModel(document);
  const input = { ...rest, pack: (rest['pack'] as string | undefined) ?? pack ?? 'draft' } as unknown as RuleInput;
  try {
    validateModel(ruleInputSchema, input, 'rule', 'rule');
  } catch (err) {
    const { message, details } = fail(err);
    throw new UsageError(message, details);
  }
  return {
    ref: makeRef(input.pack, input.name),
    pack: input.pack,
    name: input.name,
    ...(input.description === undefined ? {} : { description: input.description }),
    enabled: input.enabled ?? true,
    trigger: input.trigger,
    ...(input.criteria === undefined ? {} : { criteria: input.criteria }),
    ...(input.throttle === undefined ? {} : { throttle: input.throttle }),
    ...(input.group === undefined ? {} : { group: input.group }),
    action: input.action,
    source: 'api',
    createdAt: now,
    updatedAt: now,
  };
}

/**
 * The event of a test from a file: `{ type?, payload, triggerParameters? }`, or, without a
 * `payload` key, the whole document as the payload. Type and trigger parameters default to the
 * rule's (the event is for the instance the rule listens to).
 */
export function testEvent(document: unknown, rule: Rule, now = new Date().toISOString()): ReflexEvent {
  const form = isObject(document) && Object.hasOwn(document, 'payload');
  const type = form && typeof document['type'] === 'string' ? document['type'] : rule.trigger.type;
  const given = form ? document['triggerParameters'] : undefined;
  if (given !== undefined && !isObject(given)) throw new UsageError('triggerParameters in the event file must be a mapping');
  const triggerParameters = (given as JsonObject | undefined) ?? rule.trigger.parameters;
  return {
    id: 'rule-test',
    type,
    ...(triggerParameters === undefined ? {} : { triggerParameters }),
    source: 'reflex rule test',
    payload: ((form ? document['payload'] : document) ?? {}) as JsonValue,
    occurredAt: now,
    traceId: 'rule-test',
  };
}

/** The API's rule input of a draft rule file. */
export function ruleInputOf(draft: Rule): RuleInput {
  return {
    pack: draft.pack,
    name: draft.name,
    enabled: draft.enabled,
    trigger: draft.trigger,
    action: draft.action,
    ...(draft.description === undefined ? {} : { description: draft.description }),
    ...(draft.criteria === undefined ? {} : { criteria: draft.criteria }),
    ...(draft.throttle === undefined ? {} : { throttle: draft.throttle }),
    ...(draft.group === undefined ? {} : { group: draft.group }),
  };
}
