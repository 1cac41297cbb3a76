import type { ErrorJson } from './errors.ts';
import type { ActionPolicies } from './action.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { REF_PATTERN } from './refs.ts';

export const EXECUTION_STATUSES = [
  'requested',
  'delayed',
  'scheduled',
  'running',
  'canceling',
  'succeeded',
  'failed',
  'timeout',
  'canceled',
] as const;
export type ExecutionStatus = (typeof EXECUTION_STATUSES)[number];

export const TERMINAL_STATUSES: readonly ExecutionStatus[] = ['succeeded', 'failed', 'timeout', 'canceled'];

/** Legal moves of the execution state machine; the store refuses any other. */
const TRANSITIONS: Record<ExecutionStatus, readonly ExecutionStatus[]> = {
  requested: ['scheduled', 'delayed', 'running', 'canceled', 'failed'],
  delayed: ['scheduled', 'running', 'canceled', 'failed'],
  scheduled: ['running', 'delayed', 'canceled', 'failed'],
  // running → delayed: a failed attempt waits for its retry (or an abandoned idempotent one).
  running: ['succeeded', 'failed', 'timeout', 'canceling', 'canceled', 'delayed'],
  canceling: ['canceled', 'succeeded', 'failed', 'timeout'],
  succeeded: [],
  failed: [],
  timeout: [],
  canceled: [],
};

export function isTerminal(status: ExecutionStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function canTransition(from: ExecutionStatus, to: ExecutionStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Statuses from which `to` may be reached: what a compare-and-set should expect. */
export function sourcesOf(to: ExecutionStatus): ExecutionStatus[] {
  return EXECUTION_STATUSES.filter((from) => TRANSITIONS[from].includes(to));
}

/** One step of an execution's life, appended by every transition. */
export interface ExecutionHistoryEntry {
  status: ExecutionStatus;
  at: string;
  attempt?: number;
  /** Why: `retry after failed`, `waiting for a concurrency slot`, `abandoned by a dead runner`, ... */
  reason?: string;
}

export interface Execution {
  id: string;
  action: string;
  runner: string;
  parameters: JsonObject;
  status: ExecutionStatus;
  result?: JsonValue;
  error?: ErrorJson;
  /** Set when a rule requested it. */
  rule?: string;
  eventId?: string;
  enforcementId?: string;
  traceId: string;
  attempt: number;
  host?: string;
  /** Every status it went through, oldest first. */
  history: ExecutionHistoryEntry[];
  /** The execution this one re-runs. */
  rerunOf?: string;
  /**
   * Parameters that held datastore secrets: the runner got them in full, the stored record has them
   * masked (SECRET_MASK in place of each secret). A re-run must give these again.
   */
  maskedParameters?: string[];
  /** Where a `delayed` execution waits (e.g. a concurrency slot key). */
  waitKey?: string;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
}

/** The message a runner receives on `reflex.executions.<runner>`. */
export interface ExecutionRequest {
  executionId: string;
  action: string;
  runner: string;
  entryPoint?: string;
  pack: string;
  parameters: JsonObject;
  traceId: string;
  /** The action's policies as they were when it was requested. */
  policies?: ActionPolicies;
  /**
   * Datastore secrets the parameters hold (set by the rules engine). Whatever the worker keeps or
   * sends on — result, error, output lines, chat messages — has them masked. They travel only here,
   * next to the parameters that carry them anyway; the stored execution never has them.
   */
  secrets?: JsonValue[];
}

/** Body of `POST /v1/executions/:id/re-run`. */
export interface RerunInput {
  /** Replaces the original's parameters key by key; absent keys keep their original value. */
  parameters?: JsonObject;
}

export const rerunSchema = {
  $id: 'reflex:rerun',
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { parameters: { type: 'object' } },
} as const;

/** Body of `POST /v1/executions`. */
export interface ManualExecutionInput {
  action: string;
  parameters?: JsonObject;
}

export const manualExecutionSchema = {
  $id: 'reflex:manual-execution',
  type: 'object',
  additionalProperties: false,
  required: ['action'],
  properties: {
    action: { type: 'string', pattern: REF_PATTERN },
    parameters: { type: 'object' },
  },
} as const;

/** A new execution record in `requested`, before it goes on the bus. */
export function newExecution(fields: {
  id: string;
  action: { ref: string; runner: string };
  parameters: JsonObject;
  traceId: string;
  now: string;
  rule?: string;
  eventId?: string;
  enforcementId?: string;
  rerunOf?: string;
}): Execution {
  const execution: Execution = {
    id: fields.id,
    action: fields.action.ref,
    runner: fields.action.runner,
    parameters: fields.parameters,
    status: 'requested',
    traceId: fields.traceId,
    attempt: 0,
    history: [{ status: 'requested', at: fields.now, attempt: 0 }],
    createdAt: fields.now,
    updatedAt: fields.now,
  };
  if (fields.rerunOf !== undefined) execution.rerunOf = fields.rerunOf;
  if (fields.rule !== undefined) execution.rule = fields.rule;
  if (fields.eventId !== undefined) execution.eventId = fields.eventId;
  if (fields.enforcementId !== undefined) execution.enforcementId = fields.enforcementId;
  return execution;
}

/** The bus message for an execution of `action`. */
export function executionRequestOf(execution: Execution, action: { pack: string; entryPoint?: string; policies?: ActionPolicies }): ExecutionRequest {
  const request: ExecutionRequest = {
    executionId: execution.id,
    action: execution.action,
    runner: execution.runner,
    pack: action.pack,
    parameters: execution.parameters,
    traceId: execution.traceId,
  };
  if (action.entryPoint !== undefined) request.entryPoint = action.entryPoint;
  if (action.policies !== undefined) request.policies = action.policies;
  return request;
}
