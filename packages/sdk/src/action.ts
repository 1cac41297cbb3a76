/**
 * `defineAction`: a `nodejs` action whose parameters are typed from the same map the action's YAML
 * has under `parameters:` (StackStorm style: property schemas with `required: true`, `default`,
 * `secret: true`). It returns the function the runner calls, `(params, ctx) => result`: make it the
 * module's default export. The result must be JSON (the runner refuses anything else). No `as const`
 * is needed (write it on `parameters` if you like, not on the whole argument: that hides `run`'s types).
 */
import type { FromSchema, JSONSchema } from 'json-schema-to-ts';
import type { JsonObject, Logger, PackKv } from './common.ts';

export interface ActionContext {
  /** debug/info lines go to the execution's stdout, warn/error lines to its stderr. */
  logger: Logger;
  /** The pack's configuration values (`{}` when it has none). */
  config: JsonObject;
  /** Aborted on cancel or timeout; SIGTERM follows a moment later, then SIGKILL. */
  signal: AbortSignal;
  executionId: string;
  action: string;
  pack: string;
  packDir: string;
  traceId: string;
  /** The pack's datastore scope (`pack:<pack>`): `get`, `put(name, value, { ttlSeconds })`, `delete`. */
  kv: PackKv;
}

/** One parameter as the YAML writes it: a JSON Schema plus StackStorm's flags. */
export type ParameterSpec = Readonly<Record<string, unknown>> & { readonly required?: boolean; readonly secret?: boolean };

type Flags = 'required' | 'secret' | 'literal';
type TypeOf<S> = Omit<S, Flags> extends infer Schema extends JSONSchema ? FromSchema<Schema> : unknown;
/** Present when required or defaulted (the runner fills defaults in before the call). */
type Present<S> = S extends { readonly required: true } ? true : S extends { readonly default: unknown } ? true : false;
type Simplify<T> = { [K in keyof T]: T[K] } & {};

/** The parameters an action receives, from its `parameters` map. */
export type ParametersOf<P extends Readonly<Record<string, ParameterSpec>>> = Simplify<
  { -readonly [K in keyof P as Present<P[K]> extends true ? K : never]: TypeOf<P[K]> } & {
    -readonly [K in keyof P as Present<P[K]> extends true ? never : K]?: TypeOf<P[K]>;
  }
>;

/** The runner's view: the module's default export. `parameters` is kept for tools and tests. */
export type ActionFunction<Params, Result> = ((params: Params, ctx: ActionContext) => Promise<Result>) & {
  readonly parameters: Readonly<Record<string, ParameterSpec>>;
};

/**
 * ```ts
 * export default defineAction({
 *   parameters: { host: { type: 'string', required: true }, retries: { type: 'integer', default: 3 } },
 *   async run(params, ctx) {            // params: { host: string; retries: number }
 *     return { ok: true };
 *   },
 * });
 * ```
 */
export function defineAction<const P extends Readonly<Record<string, ParameterSpec>>, Result>(spec: {
  parameters: P;
  run(params: ParametersOf<P>, ctx: ActionContext): Result | Promise<Result>;
}): ActionFunction<ParametersOf<P>, Result> {
  const action = async (params: ParametersOf<P>, ctx: ActionContext): Promise<Result> => await spec.run(params, ctx);
  return Object.assign(action, { parameters: spec.parameters });
}

/**
 * An action failure that says how to handle it: `retriable: false` (retrying cannot help),
 * `retryAfterMs` (not sooner), `code` (an UPPER_SNAKE code kept on the execution's error).
 */
export class ActionError extends Error {
  readonly code: string | undefined;
  readonly retriable: boolean | undefined;
  readonly retryAfterMs: number | undefined;

  constructor(message: string, options: { code?: string; retriable?: boolean; retryAfterMs?: number; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ActionError';
    this.code = options.code;
    this.retriable = options.retriable;
    this.retryAfterMs = options.retryAfterMs;
  }
}
