import type { FastifyPluginAsync } from 'fastify';
import {
  ConflictError,
  EXECUTION_STATUSES,
  executionRequestOf,
  manualExecutionSchema,
  newExecution,
  newId,
  NotFoundError,
  traceIdFrom,
  validateUser,
  type ExecutionStatus,
  type JsonObject,
  type ManualExecutionInput,
} from '@reflex/model';
import { publishExecutionRequest } from '@reflex/runtime';
import type { RouteDeps } from '../deps.ts';
import { errorResponse, pageOf, pageQuery } from './schemas.ts';

export const executionRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.post<{ Body: ManualExecutionInput }>(
    '/v1/executions',
    {
      schema: {
        tags: ['executions'],
        summary: 'Run an action by hand',
        body: manualExecutionSchema,
        response: { 400: errorResponse, 404: errorResponse, 503: errorResponse },
      },
    },
    async (request, reply) => {
      const action = await deps.store.actions.get(request.body.action);
      if (action === null) throw new NotFoundError('action', request.body.action);
      if (!action.enabled) throw new ConflictError(`action '${action.ref}' is disabled`, 'ACTION_DISABLED');
      const parameters = structuredClone(request.body.parameters ?? {}) as JsonObject;
      validateUser(action.parametersSchema, parameters, 'body.parameters', `parameters of ${action.ref}`);
      const execution = newExecution({
        id: newId(),
        action,
        parameters,
        traceId: traceIdFrom(request.headers['x-reflex-trace'] as string | undefined),
        now: new Date().toISOString(),
      });
      await deps.store.executions.insert(execution);
      try {
        await publishExecutionRequest(deps.bus, deps.names, executionRequestOf(execution, action));
      } catch (err) {
        // Nothing half-written: a request that never reached the bus leaves no record behind.
        await deps.store.executions.delete(execution.id);
        throw err;
      }
      return reply.code(201).send(execution);
    },
  );

  app.get<{ Querystring: { action?: string; status?: ExecutionStatus; rule?: string; event?: string; limit?: number; cursor?: string } }>(
    '/v1/executions',
    {
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
      return pageOf(await deps.store.executions.list({ action, status, rule, eventId: event }, { limit, cursor }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/executions/:id',
    { schema: { tags: ['executions'], summary: 'One execution', params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } } } },
    async (request) => {
      const execution = await deps.store.executions.get(request.params.id);
      if (execution === null) throw new NotFoundError('execution', request.params.id);
      return execution;
    },
  );
};
