/**
 * Everything a rule must satisfy before it is stored: the shape (route schema), then the
 * meaning: its trigger type and action exist, its trigger parameters fit, its criteria and
 * templates compile. Every problem is reported, with the field rooted at `body`.
 */
import { compileRule } from '@reflex/rules';
import {
  actionParameterProblems,
  makeRef,
  ReflexError,
  validateUser,
  ValidationError,
  type ErrorDetail,
  type Rule,
  type RuleInput,
} from '@reflex/model';
import type { RouteDeps } from './deps.ts';

function collect(details: ErrorDetail[], root: string, fn: () => void): void {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ReflexError)) throw err;
    for (const d of err.details ?? [{ field: '', message: err.message }]) {
      details.push({ field: [root, d.field].filter((s) => s !== '').join('.'), message: d.message });
    }
  }
}

export function ruleFromInput(input: RuleInput, now: string, existing: Rule | null): Rule {
  const rule: Rule = {
    ref: makeRef(input.pack, input.name),
    pack: input.pack,
    name: input.name,
    enabled: input.enabled ?? true,
    trigger: input.trigger,
    action: input.action,
    source: 'api',
    createdAt: existing?.createdAt ?? now,
    updatedAt: now,
  };
  if (input.description !== undefined) rule.description = input.description;
  if (input.criteria !== undefined) rule.criteria = input.criteria;
  if (input.throttle !== undefined) rule.throttle = input.throttle;
  if (input.group !== undefined) rule.group = input.group;
  return rule;
}

/** `root`: where the rule sits in the request (`body`, or `body.draft` for a backtest's draft). */
export async function checkRule(deps: RouteDeps, rule: Rule, root = 'body'): Promise<void> {
  const details: ErrorDetail[] = [];
  const [triggerType, action] = await Promise.all([
    deps.store.triggerTypes.get(rule.trigger.type),
    deps.store.actions.get(rule.action.ref),
  ]);
  if (triggerType === null) {
    details.push({ field: `${root}.trigger.type`, message: `no trigger type '${rule.trigger.type}' is registered` });
  } else if (triggerType.parametersSchema !== undefined) {
    const params = rule.trigger.parameters ?? {};
    collect(details, '', () => validateUser(triggerType.parametersSchema ?? {}, params, `${root}.trigger.parameters`, 'trigger parameters'));
  }
  if (action === null) {
    details.push({ field: `${root}.action.ref`, message: `no action '${rule.action.ref}' is registered` });
  } else {
    for (const d of actionParameterProblems(rule.action.parameters ?? {}, action)) details.push({ field: `${root}.${d.field}`, message: d.message });
  }
  collect(details, root, () => compileRule(rule));
  if (details.length > 0) {
    const first = details[0] as ErrorDetail;
    throw new ValidationError(`rule is invalid: ${first.field} ${first.message}`, details);
  }
}
