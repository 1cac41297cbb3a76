import type { KvContext } from './datastore.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { REF_PATTERN } from './refs.ts';

/** Something that happened, as a sensor, a webhook or a person dispatched it. */
export interface ReflexEvent {
  /** Time-sortable id (ULID); also the bus message id, so a re-published event is dropped. */
  id: string;
  /** Trigger type ref, e.g. `core.webhook`. */
  type: string;
  /** The trigger instance the event belongs to, e.g. `{ url: 'alerts' }` for a webhook. */
  triggerParameters?: JsonObject;
  /** Who dispatched it: `webhook`, `api`, `sensor:core.interval`, ... */
  source: string;
  payload: JsonValue;
  /** ISO-8601 time of dispatch. */
  occurredAt: string;
  traceId: string;
}

/** What criteria and parameter templates see. */
export interface EventContext {
  payload: JsonValue;
  event: { id: string; type: string; source: string; occurredAt: string; traceId: string };
  /** Datastore keys the rule's templates name (templates only; loaded by the rules engine). */
  kv?: KvContext;
}

export function eventContext(event: ReflexEvent): EventContext {
  return {
    payload: event.payload,
    event: {
      id: event.id,
      type: event.type,
      source: event.source,
      occurredAt: event.occurredAt,
      traceId: event.traceId,
    },
  };
}

/** Body of `POST /v1/events`. */
export interface DispatchRequest {
  type: string;
  payload?: JsonValue;
  triggerParameters?: JsonObject;
}

export const dispatchRequestSchema = {
  $id: 'reflex:dispatch-request',
  type: 'object',
  additionalProperties: false,
  required: ['type'],
  properties: {
    type: { type: 'string', pattern: REF_PATTERN },
    payload: {},
    triggerParameters: { type: 'object' },
  },
} as const;
