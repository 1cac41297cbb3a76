/** Requesting an execution by hand (POST /v1/executions, re-run): validate, store, publish — or nothing. */
import {
  ConflictError,
  executionRequestOf,
  newExecution,
  newId,
  NotFoundError,
  validateUser,
  type Execution,
  type JsonObject,
} from '@reflex/model';
import { publishExecutionRequest } from '@reflex/runtime';
import type { RouteDeps } from './deps.ts';

export async function requestExecution(
  deps: RouteDeps,
  input: { action: string; parameters: JsonObject; traceId: string; rerunOf?: string },
): Promise<Execution> {
  const action = await deps.store.actions.get(input.action);
  if (action === null) throw new NotFoundError('action', input.action);
  if (!action.enabled) throw new ConflictError(`action '${action.ref}' is disabled`, 'ACTION_DISABLED');
  const parameters = structuredClone(input.parameters);
  validateUser(action.parametersSchema, parameters, 'body.parameters', `parameters of ${action.ref}`);
  const execution = newExecution({
    id: newId(),
    action,
    parameters,
    traceId: input.traceId,
    now: new Date().toISOString(),
    ...(input.rerunOf === undefined ? {} : { rerunOf: input.rerunOf }),
  });
  await deps.store.executions.insert(execution);
  try {
    await publishExecutionRequest(deps.bus, deps.names, executionRequestOf(execution, action));
  } catch (err) {
    // Nothing half-written: a request that never reached the bus leaves no record behind.
    await deps.store.executions.delete(execution.id);
    throw err;
  }
  return execution;
}
