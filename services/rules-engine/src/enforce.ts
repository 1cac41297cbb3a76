/**
 * What a matched rule does about an event: render the action's parameters, validate them
 * against the action's schema, and describe the execution to request. Pure: ids are derived
 * from the event and rule, so doing it twice for a redelivered event gives the same records.
 *
 * Datastore keys the templates read come in with the rule's kv view (kv-context.ts). Secrets
 * among them reach the runner in the request, but the stored execution has them masked (and
 * names the parameters in `maskedParameters`), so no API answer, log or chat echo of the record
 * can show them.
 */
import { maskErrorJson, secretMasker, type SecretMasker } from '@reflex/auth';
import {
  enforcementIdFor,
  eventContext,
  windowEnforcementIdFor,
  type EventContext,
  executionIdFor,
  executionRequestOf,
  newExecution,
  toErrorJson,
  validateUser,
  type Action,
  type Enforcement,
  type Execution,
  type ExecutionRequest,
  type JsonObject,
  type ReflexEvent,
  type Rule,
} from '@reflex/model';
import type { CompiledRule, NoiseTemplateContext, PendingFiring } from '@reflex/rules';
import type { FiringRecord } from '@reflex/store';
import type { RuleKv } from './kv-context.ts';

export interface Firing {
  record: FiringRecord;
  requests: ExecutionRequest[];
}

/** A failed enforcement; its error text never shows a secret the rule read. */
function failed(base: Omit<Enforcement, 'status'>, err: unknown, masker?: SecretMasker): Enforcement {
  const error = toErrorJson(err);
  return { ...base, status: 'failed', error: masker === undefined ? error : maskErrorJson(error, masker) };
}

/**
 * Noise control's part in a firing: extra template variables (`window`, `group`, `events`), and
 * for a throttle window or alert group that fires later, its own derived enforcement id and record.
 */
export interface Occasion {
  extra?: NoiseTemplateContext;
  /** A window's or group's firing: the enforcement is about it (id from the rule, window and sequence). */
  window?: NonNullable<Enforcement['window']>;
}

export interface Enforced {
  enforcement: Enforcement;
  execution?: Execution;
  request?: ExecutionRequest;
}

function enforceOne(
  event: ReflexEvent,
  compiled: CompiledRule,
  action: Action | undefined,
  now: string,
  kv: RuleKv | undefined,
  occasion: Occasion = {},
): Enforced {
  const rule: Rule = compiled.rule;
  const window = occasion.window;
  const id = window === undefined ? enforcementIdFor(event.id, rule.ref) : windowEnforcementIdFor(rule.ref, window.id, window.seq ?? 1);
  const base: Omit<Enforcement, 'status'> = { id, eventId: event.id, rule: rule.ref, traceId: event.traceId, createdAt: now, ...(window === undefined ? {} : { window }) };
  if (action === undefined) {
    return { enforcement: { ...base, status: 'failed', error: { name: 'NotFoundError', code: 'NOT_FOUND', message: `action '${rule.action.ref}' is not registered` } } };
  }
  if (!action.enabled) {
    return { enforcement: { ...base, status: 'failed', error: { name: 'ConflictError', code: 'ACTION_DISABLED', message: `action '${action.ref}' is disabled` } } };
  }
  if (kv !== undefined && 'error' in kv) return { enforcement: { ...base, status: 'failed', error: kv.error } };
  const masker = kv !== undefined && kv.secrets.length > 0 ? secretMasker(kv.secrets) : undefined;
  let parameters: JsonObject;
  try {
    const ctx: EventContext = { ...eventContext(event), ...occasion.extra };
    if (kv !== undefined) ctx.kv = kv.kv;
    parameters = compiled.renderParameters(ctx);
    validateUser(action.parametersSchema, parameters, 'parameters', `parameters of ${action.ref}`);
  } catch (err) {
    return { enforcement: failed(base, err, masker) };
  }
  const stored: JsonObject = {};
  const maskedParameters: string[] = [];
  for (const [name, value] of Object.entries(parameters)) {
    stored[name] = masker === undefined ? value : masker.mask(value);
    if (masker?.touches(value) === true) maskedParameters.push(name);
  }
  const execution = newExecution({
    id: executionIdFor(id),
    action,
    parameters: stored,
    traceId: event.traceId,
    now,
    rule: rule.ref,
    eventId: event.id,
    enforcementId: id,
  });
  if (maskedParameters.length > 0) execution.maskedParameters = maskedParameters;
  return {
    enforcement: { ...base, status: 'fired', executionId: execution.id },
    execution,
    // The runner gets the parameters in full (and the secrets, to mask what it keeps); the stored record is masked.
    request: { ...executionRequestOf(execution, action), parameters, ...(masker === undefined || kv === undefined ? {} : { secrets: kv.secrets }) },
  };
}

export function enforce(
  event: ReflexEvent,
  matched: CompiledRule[],
  actionOf: (ref: string) => Action | undefined,
  now: string,
  kvOf: (rule: CompiledRule) => RuleKv | undefined = () => undefined,
  occasionOf: (rule: CompiledRule) => Occasion | undefined = () => undefined,
): Firing {
  const record: FiringRecord = { event, enforcements: [], executions: [] };
  const requests: ExecutionRequest[] = [];
  for (const compiled of matched) {
    const outcome = enforceOne(event, compiled, actionOf(compiled.rule.action.ref), now, kvOf(compiled), occasionOf(compiled));
    record.enforcements.push(outcome.enforcement);
    if (outcome.execution !== undefined) record.executions.push(outcome.execution);
    if (outcome.request !== undefined) requests.push(outcome.request);
  }
  return { record, requests };
}

/**
 * A throttle window's or alert group's firing (`pending`, claimed by the scheduler): the rule's
 * action with the window's template context, ids derived from the rule, window and sequence, so
 * that finishing it again after a crash requests the same execution.
 */
export function enforceWindow(
  pending: PendingFiring,
  compiled: CompiledRule,
  action: Action | undefined,
  now: string,
  kv?: RuleKv,
): Enforced {
  const window = { id: pending.windowId, mode: pending.mode, key: pending.key, seq: pending.seq, events: pending.events };
  return enforceOne(pending.event, compiled, action, now, kv, { extra: pending.context, window });
}
