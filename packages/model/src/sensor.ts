/**
 * Pack sensors: what `sensors/*.yaml` declares (a module that polls or watches something and emits
 * events of its trigger types), and the status the sensors service keeps of each one it runs.
 */
import { NAME_PATTERN, PACK_NAME_PATTERN, REF_PATTERN } from './refs.ts';

/** A sensor of a pack, from `sensors/<name>.yaml`. */
export interface SensorDefinition {
  /** `pack.name`. */
  ref: string;
  pack: string;
  name: string;
  description?: string;
  /** The module (`.ts`/`.js`), relative to the pack: `sensors/disk.ts`. */
  entryPoint: string;
  /** Trigger type refs the sensor emits; its events are checked against their payload schemas. */
  triggerTypes: string[];
  /** Seconds between polls; overrides the module's own `pollInterval`. */
  pollInterval?: number;
  enabled: boolean;
}

/** Shortest poll interval a sensor may ask for (seconds). */
export const SENSOR_MIN_POLL_SECONDS = 0.1;
/** Longest: a day. */
export const SENSOR_MAX_POLL_SECONDS = 86_400;

export const sensorDefinitionSchema = {
  $id: 'reflex:sensor-definition',
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'name', 'entryPoint', 'triggerTypes'],
  properties: {
    ref: { type: 'string' },
    pack: { type: 'string', pattern: PACK_NAME_PATTERN },
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 4096 },
    entryPoint: { type: 'string', minLength: 1, maxLength: 1024 },
    triggerTypes: {
      type: 'array',
      minItems: 1,
      maxItems: 64,
      uniqueItems: true,
      // A name of the sensor's own pack, or a full ref.
      items: { anyOf: [{ type: 'string', pattern: NAME_PATTERN }, { type: 'string', pattern: REF_PATTERN }] },
    },
    pollInterval: { type: 'number', minimum: SENSOR_MIN_POLL_SECONDS, maximum: SENSOR_MAX_POLL_SECONDS },
    enabled: { type: 'boolean', default: true },
  },
} as const;

/**
 * `starting`: its process is being started; `running`: it is up; `backoff`: it crashed and waits to
 * be started again; `stopped`: its process was stopped on purpose (shutdown, pack removed);
 * `disabled`: `enabled: false`. The API adds `unknown` for a sensor no process reports on.
 */
export type SensorState = 'starting' | 'running' | 'backoff' | 'stopped' | 'disabled';

/** What the sensors process that runs a sensor reports about it (datastore scope `sensors.status`). */
export interface SensorStatus {
  ref: string;
  state: SensorState;
  /** The machine of the sensors process that holds the sensor's lease. */
  host: string;
  /** That sensors process (its lease holder id, and its pid). */
  holder: string;
  supervisorPid: number;
  /** The sensor's own process, while there is one. */
  pid?: number;
  /** Crashes (throws, exits, hangs) that made it start again, since this process took it. */
  restarts: number;
  lastError?: { message: string; at: string };
  /** Polls that threw (counted; a poll sensor is not restarted for them). */
  pollErrors: number;
  /** Events published. */
  emitted: number;
  /** Emitted payloads refused (not of its trigger types, or failing their payload schema). */
  refused: number;
  lastEmitAt?: string;
  /** When its current process started. */
  startedAt?: string;
  /** In backoff: when it starts again. */
  nextStartAt?: string;
  updatedAt: string;
}

/** The datastore scope (internal: not reachable through /v1/keys) where sensors processes write SensorStatus by ref. */
export const SENSOR_STATUS_SCOPE = 'sensors.status';

/** A sensor as `GET /v1/sensors` shows it: its definition and what its process reports. */
export interface SensorView extends SensorDefinition {
  status: SensorStatus | { state: 'unknown' | 'disabled' };
}
