import type { JsonSchema } from './json.ts';
import { NAME_PATTERN, PACK_NAME_PATTERN } from './refs.ts';

/** Retry a failed (or timed-out) attempt as a new attempt of the same execution. */
export interface RetryPolicy {
  /** Which outcomes are retried. Default ['failed']. */
  on?: Array<'failed' | 'timeout'>;
  /** Attempts in all, the first included. */
  maxAttempts: number;
  /** Delay before the 2nd attempt; doubles each time up to maxDelayMs. Default 1000. */
  delayMs?: number;
  maxDelayMs?: number;
  /** Full jitter (random 0..delay) when true. Default true. */
  jitter?: boolean;
}

/** At most `limit` running at once, across every runner process; the rest wait in `delayed`, in order. */
export interface ConcurrencyPolicy {
  limit: number;
  /** A parameter name: the limit holds per value of it (e.g. per host). */
  by?: string;
}

export interface ActionPolicies {
  /** Seconds before an attempt is stopped (SIGTERM, then SIGKILL) and marked `timeout`. */
  timeout?: number;
  /** Safe to run again after its runner died mid-run: it is retried instead of failed as abandoned. */
  idempotent?: boolean;
  retry?: RetryPolicy;
  concurrency?: ConcurrencyPolicy;
}

export const actionPoliciesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeout: { type: 'number', exclusiveMinimum: 0, maximum: 604800 },
    idempotent: { type: 'boolean' },
    retry: {
      type: 'object',
      additionalProperties: false,
      required: ['maxAttempts'],
      properties: {
        on: { type: 'array', items: { enum: ['failed', 'timeout'] }, uniqueItems: true, minItems: 1 },
        maxAttempts: { type: 'integer', minimum: 1, maximum: 100 },
        delayMs: { type: 'integer', minimum: 0, maximum: 86400000 },
        maxDelayMs: { type: 'integer', minimum: 0, maximum: 86400000 },
        jitter: { type: 'boolean' },
      },
    },
    concurrency: {
      type: 'object',
      additionalProperties: false,
      required: ['limit'],
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 10000 },
        by: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,127}$' },
      },
    },
  },
} as const;

/** Something Reflex can do: `core.echo`, `core.local`, `chat.post`. */
export interface Action {
  ref: string;
  pack: string;
  name: string;
  description?: string;
  enabled: boolean;
  /** Which runner executes it; executions go to the bus subject of that runner. */
  runner: string;
  /** Runner-specific: a script path, a module, a command. Relative to the pack. */
  entryPoint?: string;
  /** JSON Schema (type: object) of the parameters; defaults are applied before validation. */
  parametersSchema: JsonSchema;
  policies?: ActionPolicies;
}

export const actionSchema = {
  $id: 'reflex:action',
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'name', 'runner'],
  properties: {
    ref: { type: 'string' },
    pack: { type: 'string', pattern: PACK_NAME_PATTERN },
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 4096 },
    enabled: { type: 'boolean', default: true },
    runner: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
    entryPoint: { type: 'string', maxLength: 1024 },
    parametersSchema: { type: 'object', default: { type: 'object' } },
    policies: actionPoliciesSchema,
  },
} as const;
