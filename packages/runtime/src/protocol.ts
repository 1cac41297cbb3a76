/**
 * How Reflex's own messages travel on the bus: events, execution requests and change
 * notifications. One place, so every service speaks the same protocol.
 */
import { decodeJson, encodeJson, type Bus, type PublishAck, type Subscription } from '@reflex/bus';
import type { BusNames, ExecutionRequest, ReflexEvent } from '@reflex/model';

export const TRACE_HEADER = 'Reflex-Trace';

/** Publishes an event; resolves once it is durable. The event id is the dedup id. */
export async function publishEvent(bus: Bus, names: BusNames, event: ReflexEvent): Promise<PublishAck> {
  return await bus.publish(names.eventSubject(event.type), encodeJson(event), {
    msgId: event.id,
    headers: { [TRACE_HEADER]: event.traceId },
  });
}

/** Publishes an execution request to its runner's subject; the execution id is the dedup id. */
export async function publishExecutionRequest(bus: Bus, names: BusNames, request: ExecutionRequest): Promise<PublishAck> {
  return await bus.publish(names.executionSubject(request.runner), encodeJson(request), {
    msgId: request.executionId,
    headers: { [TRACE_HEADER]: request.traceId },
  });
}

/**
 * What changed: rules and packs invalidate caches in every service that holds them; `keys` (datastore
 * writes through the API, `ref` = `<scope>/<name>`) drops the rules engines' key caches; `noise`
 * (silences and inhibitions created or ended, `ref` = their id) reloads the rules engines' noise config.
 */
export type ChangeTopic = 'rules' | 'packs' | 'keys' | 'noise';

export interface ChangeNotice {
  topic: ChangeTopic;
  op: 'create' | 'update' | 'delete' | 'register' | 'unregister';
  ref?: string;
}

export async function notifyChange(bus: Bus, names: BusNames, notice: ChangeNotice): Promise<void> {
  await bus.notify(names.controlSubject(notice.topic), encodeJson(notice));
}

export function onChange(bus: Bus, names: BusNames, topics: ChangeTopic[], handler: (notice: ChangeNotice) => void): Subscription[] {
  return topics.map((topic) =>
    bus.subscribe(names.controlSubject(topic), (_subject, data) => {
      let notice: ChangeNotice;
      try {
        notice = decodeJson<ChangeNotice>(data);
      } catch {
        // A malformed notice still means "something changed": reload rather than miss it.
        notice = { topic, op: 'update' };
      }
      handler(notice);
    }),
  );
}

/** Execution status changes, for live streams; best effort. */
export async function notifyExecutionUpdate(bus: Bus, names: BusNames, update: { id: string; status: string }): Promise<void> {
  await bus.notify(names.controlSubject(`executions.${update.id}`), encodeJson(update));
}
