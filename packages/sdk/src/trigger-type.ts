/**
 * `defineTriggerType`: a trigger type as TypeScript sees it, so that what a sensor emits is typed
 * from the payload schema. The schema here and the one in `triggers/<name>.yaml` must say the same
 * (the YAML is what Reflex registers and checks events against); a pack test can compare them.
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { JsonObject, JsonValue } from './common.ts';

export interface TriggerTypeDefinition<Ref extends string = string, Payload = JsonValue, Parameters = JsonObject> {
  /** `pack.name`, as registered from `triggers/<name>.yaml`. */
  readonly ref: Ref;
  readonly description?: string;
  readonly payloadSchema?: JSONSchema;
  readonly parametersSchema?: JSONSchema;
  /** Types only (never set): what an event's payload and trigger parameters are. */
  readonly '~types'?: { payload: Payload; parameters: Parameters };
}

/** The payload type of a trigger type: `PayloadOf<typeof diskUsage>`. */
export type PayloadOf<T> = T extends TriggerTypeDefinition<string, infer P, unknown> ? P : never;
/** Its trigger parameters type. */
export type ParametersOf<T> = T extends TriggerTypeDefinition<string, unknown, infer Q> ? Q : never;

type Typed<S> = S extends JSONSchema ? FromSchema<S> : JsonObject;

/**
 * ```ts
 * export const diskUsage = defineTriggerType({
 *   ref: 'linux.disk_usage',
 *   payloadSchema: { type: 'object', required: ['host'], properties: { host: { type: 'string' } } },
 * } as const);
 * ```
 */
export function defineTriggerType<const Ref extends string, const P extends JSONSchema, const Q extends JSONSchema | undefined = undefined>(definition: {
  ref: Ref;
  description?: string;
  payloadSchema: P;
  parametersSchema?: Q;
}): TriggerTypeDefinition<Ref, FromSchema<P>, Typed<Q>> {
  return Object.freeze({ ...definition }) as TriggerTypeDefinition<Ref, FromSchema<P>, Typed<Q>>;
}
