/**
 * Turning a request into an event on the bus: validate against the trigger type, stamp id and
 * trace, publish, and answer only once the bus holds it durably.
 */
import {
  newId,
  validateUser,
  ValidationError,
  type JsonObject,
  type JsonValue,
  type ReflexEvent,
  type TriggerType,
} from '@reflex/model';
import { publishEvent } from '@reflex/runtime';
import type { RouteDeps } from './deps.ts';

export interface DispatchInput {
  type: string;
  payload: JsonValue;
  triggerParameters?: JsonObject | undefined;
  source: string;
  traceId: string;
}

export async function resolveTriggerType(deps: RouteDeps, ref: string, field: string): Promise<TriggerType> {
  const triggerType = await deps.catalog.triggerType(ref);
  if (triggerType === undefined) {
    throw new ValidationError(`unknown trigger type '${ref}'`, [{ field, message: `no trigger type '${ref}' is registered` }]);
  }
  return triggerType;
}

export async function dispatchEvent(deps: RouteDeps, triggerType: TriggerType, input: DispatchInput): Promise<ReflexEvent> {
  if (triggerType.payloadSchema !== undefined) {
    validateUser(triggerType.payloadSchema, input.payload, 'payload', `payload of ${triggerType.ref}`);
  }
  if (input.triggerParameters !== undefined && triggerType.parametersSchema !== undefined) {
    validateUser(triggerType.parametersSchema, input.triggerParameters, 'triggerParameters', `trigger parameters of ${triggerType.ref}`);
  }
  const event: ReflexEvent = {
    id: newId(),
    type: triggerType.ref,
    source: input.source,
    payload: input.payload,
    occurredAt: new Date().toISOString(),
    traceId: input.traceId,
  };
  if (input.triggerParameters !== undefined) event.triggerParameters = input.triggerParameters;
  await publishEvent(deps.bus, deps.names, event);
  deps.logger.debug({ eventId: event.id, traceId: event.traceId, type: event.type }, 'event dispatched');
  return event;
}
