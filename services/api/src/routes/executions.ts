import type { FastifyPluginAsync } from 'fastify';
import {
  ConflictError,
  EXECUTION_STATUSES,
  isTerminal,
  manualExecutionSchema,
  NotFoundError,
  rerunSchema,
  traceIdFrom,
  ValidationError,
  type Execution,
  type ExecutionStatus,
  type JsonObject,
  type ManualExecutionInput,
  type RerunInput,
} from '@reflex/model';
import { encodeJson } from '@reflex/bus';
import { noteAudit, type ScopeResolver } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { requestExecution } from '../execution-requests.ts';
import { maskExecution } from '../secrets.ts';
import { streamOutput } from '../output-stream.ts';
import { errorResponse, pageOf, pageQuery } from './schemas.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;
const WAITING: ExecutionStatus[] = ['requested', 'scheduled', 'delayed'];

export const executionRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const found = async (id: string): Promise<Execution> => {
    const execution = await deps.store.executions.get(id);
    if (execution === null) throw new NotFoundError('execution', id);
    return execution;
  };

  /** A route about one execution is about its action (scoped grants name actions); unknown ids need the unscoped permission. */
  const actionOf =
    (permission: 'executions:read' | 'executions:run' | 'executions:cancel'): ScopeResolver =>
    async (request) => {
      const execution = await deps.store.executions.get((request.params as { id: string }).id);
      return execution === null ? [] : [{ permission, ref: execution.action }];
    };

  app.post<{ Body: ManualExecutionInput }>(
    '/v1/executions',
    {
      config: {
        permission: 'executions:run',
        audit: 'execution.run',
        scope: (request) => [{ permission: 'executions:run', ref: (request.body as ManualExecutionInput).action }],
      },
      schema: {
        tags: ['executions'],
        summary: 'Run an action by hand',
        body: manualExecutionSchema,
        response: { 400: errorResponse, 404: errorResponse, 503: errorResponse },
      },
    },
    async (request, reply) => {
      const execution = await requestExecution(deps, {
        action: request.body.action,
        parameters: (request.body.parameters ?? {}) as JsonObject,
        traceId: traceIdFrom(request.headers['x-reflex-trace'] as string | undefined),
      });
      noteAudit(request, { target: { type: 'execution', id: execution.id }, details: { action: execution.action } });
      return reply.code(201).send(await maskExecution(deps.catalog, execution));
    },
  );

  app.get<{ Querystring: { action?: string; status?: ExecutionStatus; rule?: string; event?: string; limit?: number; cursor?: string } }>(
    '/v1/executions',
    {
      config: { permission: 'executions:read' },
      schema: {
        tags: ['executions'],
        summary: 'Executions, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            action: { type: 'string', maxLength: 200 },
            status: { enum: [...EXECUTION_STATUSES] },
            rule: { type: 'string', maxLength: 200 },
            event: { type: 'string', maxLength: 64 },
            ...pageQuery,
          },
        },
      },
    },
    async (request) => {
      const { action, status, rule, event, limit, cursor } = request.query;
      const page = await deps.store.executions.list({ action, status, rule, eventId: event }, { limit, cursor });
      return pageOf({ ...page, items: await Promise.all(page.items.map((e) => maskExecution(deps.catalog, e))) });
    },
  );

  app.get<{ Params: { id: string } }>('/v1/executions/:id',
    { config: { permission: 'executions:read', scope: actionOf('executions:read') }, schema: { tags: ['executions'], summary: 'One execution, with its history', params: idParams } },
    async (request) =>
    maskExecution(deps.catalog, await found(request.params.id)),
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/executions/:id',
    {
      config: { permission: 'executions:cancel', audit: 'execution.cancel', scope: actionOf('executions:cancel') },
      schema: { tags: ['executions'], summary: 'Cancel: a waiting execution is canceled at once, a running one gets SIGTERM', params: idParams, response: { 409: errorResponse } },
    },
    async (request, reply) => {
      let execution = await found(request.params.id);
      if (isTerminal(execution.status)) {
        throw new ConflictError(`execution '${execution.id}' already finished (${execution.status})`, 'ALREADY_FINISHED');
      }
      const finishedAt = new Date().toISOString();
      if (WAITING.includes(execution.status)) {
        try {
          execution = await deps.store.executions.transition(execution.id, 'canceled', { finishedAt, reason: 'canceled on request' }, WAITING);
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          execution = await found(execution.id); // it started meanwhile: cancel the running attempt below
        }
      }
      if (execution.status === 'running') {
        try {
          execution = await deps.store.executions.transition(execution.id, 'canceling', { reason: 'canceled on request' }, ['running']);
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          execution = await found(execution.id);
          if (isTerminal(execution.status)) throw new ConflictError(`execution '${execution.id}' already finished (${execution.status})`, 'ALREADY_FINISHED');
        }
      }
      if (execution.status === 'canceling') {
        await deps.bus.notify(deps.names.controlSubject('cancel'), encodeJson({ id: execution.id }));
      }
      noteAudit(request, { target: { type: 'execution', id: execution.id }, details: { action: execution.action, status: execution.status } });
      return reply.code(202).send(await maskExecution(deps.catalog, execution));
    },
  );

  app.post<{ Params: { id: string }; Body: RerunInput | null }>(
    '/v1/executions/:id/re-run',
    {
      config: { permission: 'executions:run', audit: 'execution.rerun', scope: actionOf('executions:run') },
      schema: {
        tags: ['executions'],
        summary: 'Run again with the same parameters (or some replaced); the new execution links to the original',
        params: idParams,
        body: rerunSchema,
        response: { 400: errorResponse, 404: errorResponse },
      },
    },
    async (request, reply) => {
      const original = await found(request.params.id);
      // Datastore secrets a rule rendered into parameters are masked in the stored record: ask for them again.
      const given = (request.body?.parameters ?? {}) as JsonObject;
      const missing = (original.maskedParameters ?? []).filter((name) => !Object.hasOwn(given, name));
      if (missing.length > 0) {
        throw new ValidationError(
          `execution '${original.id}' had datastore secrets in ${missing.join(', ')}, which are stored masked: give them in parameters`,
          missing.map((name) => ({ field: `body.parameters.${name}`, message: 'held a datastore secret that was not stored: give it again' })),
        );
      }
      const execution = await requestExecution(deps, {
        action: original.action,
        parameters: { ...original.parameters, ...((request.body?.parameters ?? {}) as JsonObject) },
        traceId: traceIdFrom(request.headers['x-reflex-trace'] as string | undefined),
        rerunOf: original.id,
      });
      noteAudit(request, { target: { type: 'execution', id: execution.id }, details: { action: original.action, rerunOf: original.id } });
      return reply.code(201).send(await maskExecution(deps.catalog, execution));
    },
  );

  app.get<{ Params: { id: string }; Querystring: { after?: number } }>(
    '/v1/executions/:id/output',
    {
      sse: 'dual',
      config: { permission: 'executions:read', scope: actionOf('executions:read') },
      schema: {
        tags: ['executions'],
        summary: 'Output lines: a Server-Sent Events stream (Accept: text/event-stream) live until the execution ends, or JSON so far',
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { after: { type: 'integer', minimum: 0 } } },
      },
    },
    async (request, reply) => {
      const execution = await found(request.params.id);
      if (reply.sse === undefined) {
        return { status: execution.status, items: await deps.store.outputs.list(execution.id, request.query.after ?? 0, 10_000) };
      }
      await streamOutput(deps, execution, reply.sse, request.query.after ?? 0);
      return reply;
    },
  );
};
