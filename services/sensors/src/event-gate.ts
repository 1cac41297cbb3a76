/**
 * What a pack sensor emits becomes an event only here, in the service: it must be of one of the
 * trigger types its YAML lists, and pass that trigger type's payload (and parameters) schema, as a
 * webhook's would. A refused payload is an error with code EVENT_INVALID naming the field, and
 * nothing is published. Events get `source: sensor:<ref>` and a trace id (the sensor's, or a new one).
 */
import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import {
  newId,
  traceIdFrom,
  validateUser,
  ValidationError,
  type BusNames,
  type ReflexEvent,
  type SensorDefinition,
  type TriggerType,
} from '@reflex/model';
import { publishEvent } from '@reflex/runtime';
import type { Store } from '@reflex/store';
import { EVENT_INVALID, type EmitRequest } from './host-protocol.ts';

export interface EventGateDeps {
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
}

function refused(message: string, details: Array<{ field: string; message: string }>, cause?: unknown): ValidationError {
  return new ValidationError(message, details, { code: EVENT_INVALID, cause });
}

export class EventGate {
  readonly #deps: EventGateDeps;
  /** Trigger types by ref (null: not registered), until the packs change. */
  readonly #triggerTypes = new Map<string, Promise<TriggerType | null>>();

  constructor(deps: EventGateDeps) {
    this.#deps = deps;
  }

  /** Trigger types are read again on next use (packs were registered). */
  invalidate(): void {
    this.#triggerTypes.clear();
  }

  async publish(sensor: SensorDefinition, request: EmitRequest): Promise<{ eventId: string; traceId: string }> {
    const type = request.triggerType ?? sensor.triggerTypes[0] ?? '';
    if (!sensor.triggerTypes.includes(type)) {
      throw refused(`${sensor.ref} emits ${sensor.triggerTypes.join(', ')}, not '${type}' (trigger_types in its YAML)`, [
        { field: 'type', message: `'${type}' is not one of the sensor's trigger types` },
      ]);
    }
    const triggerType = await this.#triggerType(type);
    if (triggerType === null) throw refused(`trigger type '${type}' is not registered`, [{ field: 'type', message: `no trigger type '${type}'` }]);
    try {
      if (triggerType.payloadSchema !== undefined) validateUser(triggerType.payloadSchema, request.payload, 'payload', `payload of ${type}`);
      if (request.triggerParameters !== undefined && triggerType.parametersSchema !== undefined) {
        validateUser(triggerType.parametersSchema, request.triggerParameters, 'triggerParameters', `trigger parameters of ${type}`);
      }
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      throw refused(err.message, err.details ?? [], err);
    }
    const event: ReflexEvent = {
      id: newId(),
      type,
      source: `sensor:${sensor.ref}`,
      payload: request.payload,
      occurredAt: new Date().toISOString(),
      traceId: traceIdFrom(request.traceId),
    };
    if (request.triggerParameters !== undefined) event.triggerParameters = request.triggerParameters;
    await publishEvent(this.#deps.bus, this.#deps.names, event);
    this.#deps.logger.debug({ eventId: event.id, traceId: event.traceId, type, sensor: sensor.ref }, 'sensor event published');
    return { eventId: event.id, traceId: event.traceId };
  }

  #triggerType(ref: string): Promise<TriggerType | null> {
    let found = this.#triggerTypes.get(ref);
    if (found === undefined) {
      found = this.#deps.store.triggerTypes.get(ref);
      // A store error is not remembered: the next emit asks again.
      found.catch(() => this.#triggerTypes.delete(ref));
      this.#triggerTypes.set(ref, found);
    }
    return found;
  }
}
