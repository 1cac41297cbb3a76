/**
 * The messages between the sensors service and the process a pack sensor runs in (sensor-host.ts),
 * over the IPC channel (JSON). Types only: the host imports nothing of Reflex at run time.
 */
import type { JsonObject, JsonValue, PackKvRequest } from '@reflex/model';

/** An error as it crosses the process boundary: no stack (the host prints it to its stderr). */
export interface HostError {
  name: string;
  message: string;
  code?: string;
}

export interface HostSensor {
  ref: string;
  pack: string;
  name: string;
  /** Trigger type refs its YAML lists; the host defaults `emit` to the module's first, else the YAML's first. */
  triggerTypes: string[];
  /** From the YAML; wins over the module's. */
  pollInterval?: number;
}

export interface StartMessage {
  type: 'start';
  modulePath: string;
  packDir: string;
  sensor: HostSensor;
  config: JsonObject;
  /** How often the host says it is alive. */
  heartbeatMs: number;
}

export type ParentMessage =
  | StartMessage
  /** Abort `ctx.signal`: a poll sensor stops after its current poll, a run sensor returns. */
  | { type: 'stop' }
  | { type: 'reply'; id: number; ok: true; value: JsonValue }
  | { type: 'reply'; id: number; ok: false; error: HostError };

/** `ctx.kv`: the sensor's pack scope, carried out by `packKv` of @reflex/runtime. */
export type KvRequest = { type: 'kv'; id: number } & PackKvRequest;

export interface EmitRequest {
  type: 'emit';
  id: number;
  payload: JsonValue;
  /** Absent: the sensor's default trigger type (the host fills it in when it knows one). */
  triggerType?: string;
  triggerParameters?: JsonObject;
  traceId?: string;
}

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type HostMessage =
  | { type: 'ready'; mode: 'poll' | 'run'; pollInterval?: number }
  | { type: 'heartbeat' }
  | EmitRequest
  | KvRequest
  | { type: 'log'; level: LogLevel; msg: string; obj?: JsonObject }
  /** A poll threw: counted and logged, the next poll happens as planned. */
  | { type: 'poll-error'; error: HostError }
  /** The module could not be loaded, or a run sensor threw or returned: the host exits next. */
  | { type: 'fatal'; phase: 'load' | 'run'; error: HostError };

/** Code of the error `emit` rejects with when the service refused the event. */
export const EVENT_INVALID = 'EVENT_INVALID';
