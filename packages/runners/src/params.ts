/**
 * Runner parameters: checking them (the request came off the bus; it was validated against the
 * action's schema, but a runner trusts only what it checks) and turning action parameters into
 * environment variables.
 */
import { validateModel, ValidationError, type ExecutionRequest, type JsonObject, type JsonValue } from '@reflex/model';
import { invalidParameters } from './errors.ts';

export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$';

/**
 * Checks `parameters` against a runner's schema (on a copy: defaults are applied to it) and
 * returns the copy. A failure is a NonRetriableError `INVALID_PARAMETERS` naming every field.
 */
export function checkParameters<T>(schema: Record<string, unknown> & { $id: string }, parameters: JsonObject, runner: string): T {
  const copy = structuredClone(parameters);
  try {
    validateModel(schema, copy, 'parameters', `${runner} parameters`);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const fields = (err.details ?? []).map((d) => `${d.field} ${d.message}`).join('; ');
    throw invalidParameters(`invalid ${runner} parameters: ${fields || err.message}`, err);
  }
  return copy as T;
}

/** A value as an environment variable or argument: strings as they are, null as empty, anything else as JSON. */
export function textOf(value: JsonValue, field: string): string {
  const text = typeof value === 'string' ? value : value === null ? '' : JSON.stringify(value);
  if (text.includes('\0')) throw invalidParameters(`${field} contains a NUL byte, which cannot be passed to a process`);
  return text;
}

/** `PARAM_<NAME>`: the name upper-cased, anything but letters, digits and `_` turned into `_`. */
export function paramEnvName(name: string): string {
  return `PARAM_${name.toUpperCase().replace(/[^A-Z0-9_]/g, '_')}`;
}

/**
 * The environment of an action's process, from weakest to strongest: the runner's base
 * environment, the `env` parameter, each action parameter as `PARAM_<NAME>`, and the
 * `REFLEX_*` variables (`REFLEX_PARAMETERS` is every action parameter as one JSON object).
 */
export function actionEnv(
  request: ExecutionRequest,
  fields: { base: Record<string, string>; env?: Record<string, JsonValue>; actionParameters: JsonObject; packDir?: string },
): Record<string, string> {
  const env: Record<string, string> = { ...fields.base };
  for (const [name, value] of Object.entries(fields.env ?? {})) env[name] = textOf(value, `parameters.env.${name}`);
  const from = new Map<string, string>();
  for (const [name, value] of Object.entries(fields.actionParameters)) {
    const key = paramEnvName(name);
    const other = from.get(key);
    if (other !== undefined) throw invalidParameters(`parameters '${other}' and '${name}' would both be passed as ${key}; rename one`);
    from.set(key, name);
    env[key] = textOf(value, `parameters.${name}`);
  }
  env['REFLEX_PARAMETERS'] = JSON.stringify(fields.actionParameters);
  env['REFLEX_EXECUTION_ID'] = request.executionId;
  env['REFLEX_ACTION'] = request.action;
  env['REFLEX_PACK'] = request.pack;
  env['REFLEX_TRACE_ID'] = request.traceId;
  if (fields.packDir !== undefined) env['REFLEX_PACK_DIR'] = fields.packDir;
  return env;
}

/** Parameters other than the runner's own (the ones passed on to the action as PARAM_*). */
export function withoutKeys(parameters: JsonObject, keys: readonly string[]): JsonObject {
  return Object.fromEntries(Object.entries(parameters).filter(([k]) => !keys.includes(k)));
}

/** The shorter of a `timeout` parameter (seconds) and the attempt's time limit, if either is set. */
export function effectiveTimeoutMs(timeoutSeconds: number | undefined, ctxTimeoutMs: number | undefined): number | undefined {
  const limits = [timeoutSeconds === undefined ? undefined : timeoutSeconds * 1000, ctxTimeoutMs].filter((v): v is number => v !== undefined);
  return limits.length === 0 ? undefined : Math.min(...limits);
}
