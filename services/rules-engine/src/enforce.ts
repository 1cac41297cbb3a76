/**
 * What a matched rule does about an event: render the action's parameters, validate them
 * against the action's schema, and describe the execution to request. Pure: ids are derived
 * from the event and rule, so doing it twice for a redelivered event gives the same records.
 */
import {
  enforcementIdFor,
  eventContext,
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
import type { CompiledRule } from '@reflex/rules';
import type { FiringRecord } from '@reflex/store';

export interface Firing {
  record: FiringRecord;
  requests: ExecutionRequest[];
}

function failed(base: Omit<Enforcement, 'status'>, err: unknown): Enforcement {
  return { ...base, status: 'failed', error: toErrorJson(err) };
}

function enforceOne(
  event: ReflexEvent,
  compiled: CompiledRule,
  action: Action | undefined,
  now: string,
): { enforcement: Enforcement; execution?: Execution; request?: ExecutionRequest } {
  const rule: Rule = compiled.rule;
  const id = enforcementIdFor(event.id, rule.ref);
  const base = { id, eventId: event.id, rule: rule.ref, traceId: event.traceId, createdAt: now };
  if (action === undefined) {
    return { enforcement: { ...base, status: 'failed', error: { name: 'NotFoundError', code: 'NOT_FOUND', message: `action '${rule.action.ref}' is not registered` } } };
  }
  if (!action.enabled) {
    return { enforcement: { ...base, status: 'failed', error: { name: 'ConflictError', code: 'ACTION_DISABLED', message: `action '${action.ref}' is disabled` } } };
  }
  let parameters: JsonObject;
  try {
    parameters = compiled.renderParameters(eventContext(event));
    validateUser(action.parametersSchema, parameters, 'parameters', `parameters of ${action.ref}`);
  } catch (err) {
    return { enforcement: failed(base, err) };
  }
  const execution = newExecution({
    id: executionIdFor(id),
    action,
    parameters,
    traceId: event.traceId,
    now,
    rule: rule.ref,
    eventId: event.id,
    enforcementId: id,
  });
  return {
    enforcement: { ...base, status: 'fired', executionId: execution.id },
    execution,
    request: executionRequestOf(execution, action),
  };
}

export function enforce(
  event: ReflexEvent,
  matched: CompiledRule[],
  actionOf: (ref: string) => Action | undefined,
  now: string,
): Firing {
  const record: FiringRecord = { event, enforcements: [], executions: [] };
  const requests: ExecutionRequest[] = [];
  for (const compiled of matched) {
    const outcome = enforceOne(event, compiled, actionOf(compiled.rule.action.ref), now);
    record.enforcements.push(outcome.enforcement);
    if (outcome.execution !== undefined) record.executions.push(outcome.execution);
    if (outcome.request !== undefined) requests.push(outcome.request);
  }
  return { record, requests };
}
