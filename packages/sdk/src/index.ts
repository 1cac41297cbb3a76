/**
 * @reflex/sdk: typed helpers for pack authors. Trigger types, sensors and actions are written in
 * TypeScript with their JSON Schemas `as const`, and what a sensor emits and what an action receives
 * is typed from them (json-schema-to-ts `FromSchema`, types only). The run-time code is a few lines
 * with no dependencies: pack code imports `@reflex/sdk` from anywhere (the processes that run it map
 * the name to this file).
 */
export type { JsonObject, JsonValue, Logger, PackKv } from './common.ts';
export { defineTriggerType, type ParametersOf as TriggerParametersOf, type PayloadOf, type TriggerTypeDefinition } from './trigger-type.ts';
export {
  defineSensor,
  type Emit,
  type EmitOptions,
  type Emitted,
  type PollSensor,
  type RunSensor,
  type SensorContext,
  type SensorKv,
  type SensorModule,
  type SensorSpec,
} from './sensor.ts';
export { ActionError, defineAction, type ActionContext, type ActionFunction, type ParameterSpec, type ParametersOf } from './action.ts';
