import type { FastifyPluginAsync } from 'fastify';
import { dispatchRequestSchema, NotFoundError, traceIdFrom, type DispatchRequest } from '@reflex/model';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { dispatchEvent, resolveTriggerType } from '../dispatch.ts';
import { errorResponse, pageOf, pageQuery } from './schemas.ts';

export const eventRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.post<{ Body: DispatchRequest }>(
    '/v1/events',
    {
      config: {
        permission: 'events:dispatch',
        audit: 'event.dispatch',
        scope: (request) => [{ permission: 'events:dispatch', ref: (request.body as DispatchRequest).type }],
      },
      schema: {
        tags: ['events'],
        summary: 'Dispatch an event of any registered trigger type',
        body: dispatchRequestSchema,
        response: { 202: { type: 'object', properties: { eventId: { type: 'string' }, traceId: { type: 'string' } } }, 400: errorResponse },
      },
    },
    async (request, reply) => {
      const { type, payload, triggerParameters } = request.body;
      const triggerType = await resolveTriggerType(deps, type, 'body.type');
      const event = await dispatchEvent(deps, triggerType, {
        type,
        payload: payload ?? {},
        source: 'api',
        traceId: traceIdFrom(request.headers['x-reflex-trace'] as string | undefined),
        triggerParameters,
      });
      noteAudit(request, { target: { type: 'event', id: event.id }, details: { type } });
      return reply.code(202).send({ eventId: event.id, traceId: event.traceId });
    },
  );

  app.get<{ Querystring: { type?: string; since?: string; until?: string; limit?: number; cursor?: string } }>(
    '/v1/events',
    {
      config: { permission: 'events:read' },
      schema: {
        tags: ['events'],
        summary: 'Stored events, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            type: { type: 'string', maxLength: 200 },
            since: { type: 'string', format: 'date-time' },
            until: { type: 'string', format: 'date-time' },
            ...pageQuery,
          },
        },
      },
    },
    async (request) => {
      const { type, since, until, limit, cursor } = request.query;
      return pageOf(await deps.store.events.list({ type, since, until }, { limit, cursor }));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/events/:id',
    { config: { permission: 'events:read' }, schema: { tags: ['events'], summary: 'One stored event', params: { type: 'object', properties: { id: { type: 'string', maxLength: 64 } } } } },
    async (request) => {
      const event = await deps.store.events.get(request.params.id);
      if (event === null) throw new NotFoundError('event', request.params.id);
      return event;
    },
  );
};
