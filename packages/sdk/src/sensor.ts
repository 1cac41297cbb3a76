/**
 * `defineSensor`: a sensor module, typed by the trigger types it emits. A sensor either polls
 * (`poll(ctx)` every `pollInterval` seconds) or runs (`run(ctx)`, long-lived: it watches something and
 * returns once `ctx.signal` aborts). It runs in a process of its own under the sensors service, which
 * restarts it when it crashes and checks every event it emits against its trigger type's payload schema.
 */
import type { JsonObject, Logger, PackKv } from './common.ts';
import type { PayloadOf, TriggerTypeDefinition } from './trigger-type.ts';

export interface EmitOptions<Ref extends string = string> {
  /** Which of the sensor's trigger types the event is of. Default: the first one. */
  type?: Ref;
  /** The trigger instance (checked against the trigger type's parameters schema). */
  triggerParameters?: JsonObject;
  /** Default: a new trace id. */
  traceId?: string;
}

/** An event once it is durably on the bus. */
export interface Emitted {
  eventId: string;
  traceId: string;
}

type Triggers = readonly TriggerTypeDefinition<string, unknown, unknown>[];
type FirstRef<T extends Triggers> = T extends readonly [infer F extends Triggers[number], ...unknown[]] ? F['ref'] : T[number]['ref'];
type PayloadFor<T extends Triggers, R> = PayloadOf<Extract<T[number], { readonly ref: R }>>;

/**
 * Publishes an event of one of the sensor's trigger types. Resolves once it is durable; rejects
 * (code `EVENT_INVALID`) when the payload fails the trigger type's payload schema, and nothing is published.
 */
export type Emit<T extends Triggers> = <R extends T[number]['ref'] = FirstRef<T>>(payload: PayloadFor<T, R>, options?: EmitOptions<R>) => Promise<Emitted>;

/** A sensor's `ctx.kv`: its pack's datastore scope (see `PackKv`). */
export type SensorKv = PackKv;

export interface SensorContext<T extends Triggers = Triggers> {
  /** The sensor's ref, `pack.name`. */
  sensor: string;
  pack: string;
  /** Absolute folder of the pack (also the process's working directory). */
  packDir: string;
  /** Lines go to the sensors service's log, with the sensor's ref. */
  logger: Logger;
  /** The pack's configuration values (`{}` when it has none). */
  config: JsonObject;
  kv: SensorKv;
  /** Aborted when the sensor is to stop (shutdown, its pack changed, another process took it over). */
  signal: AbortSignal;
  emit: Emit<T>;
}

interface SensorBase<T extends Triggers> {
  /** The trigger types it emits; the first is the default of `emit`. Must be the ones its YAML lists. */
  triggerTypes: T;
}

export interface PollSensor<T extends Triggers = Triggers> extends SensorBase<T> {
  /** Seconds between the end of one poll and the start of the next (default 60; `poll_interval` in the YAML wins). */
  pollInterval?: number;
  /** A throw is counted and logged; the next poll happens as planned. */
  poll(ctx: SensorContext<T>): void | Promise<void>;
  run?: never;
}

export interface RunSensor<T extends Triggers = Triggers> extends SensorBase<T> {
  /** Long-lived: return (or reject) once `ctx.signal` aborts. Returning earlier, or throwing, counts as a crash: it is started again after a backoff. */
  run(ctx: SensorContext<T>): Promise<void>;
  poll?: never;
  pollInterval?: never;
}

export type SensorSpec<T extends Triggers = Triggers> = PollSensor<T> | RunSensor<T>;

/** What `defineSensor` returns: the default export of a sensor module. */
export type SensorModule<T extends Triggers = Triggers> = SensorSpec<T> & { readonly kind: 'reflex.sensor' };

/**
 * ```ts
 * export default defineSensor({
 *   triggerTypes: [diskUsage],
 *   pollInterval: 60,
 *   async poll(ctx) {
 *     await ctx.emit({ host: 'db1', mount: '/', used_percent: 97 });   // typed from diskUsage's schema
 *   },
 * });
 * ```
 */
export function defineSensor<const T extends Triggers>(spec: SensorSpec<T>): SensorModule<T> {
  return { ...spec, kind: 'reflex.sensor' } as SensorModule<T>;
}
