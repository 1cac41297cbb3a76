import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '@reflex/model';
import type { RouteDeps } from '../deps.ts';
import { refParams, refScope } from './schemas.ts';

const packFilter = {
  type: 'object',
  additionalProperties: false,
  properties: { pack: { type: 'string', maxLength: 64 } },
} as const;

/** Read-only views of what packs registered: actions and trigger types. */
export const catalogRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get<{ Querystring: { pack?: string } }>('/v1/actions', { config: { permission: 'actions:read' }, schema: { tags: ['actions'], summary: 'Registered actions', querystring: packFilter } }, async (request) => ({
    items: await deps.store.actions.list(request.query),
  }));

  app.get<{ Params: { ref: string } }>('/v1/actions/:ref', { config: { permission: 'actions:read', scope: refScope('actions:read') }, schema: { tags: ['actions'], summary: 'One action', params: refParams } }, async (request) => {
    const action = await deps.store.actions.get(request.params.ref);
    if (action === null) throw new NotFoundError('action', request.params.ref);
    return action;
  });

  app.get<{ Querystring: { pack?: string } }>('/v1/triggertypes', { config: { permission: 'triggertypes:read' }, schema: { tags: ['triggertypes'], summary: 'Registered trigger types', querystring: packFilter } }, async (request) => ({
    items: await deps.store.triggerTypes.list(request.query),
  }));

  app.get<{ Params: { ref: string } }>('/v1/triggertypes/:ref', { config: { permission: 'triggertypes:read', scope: refScope('triggertypes:read') }, schema: { tags: ['triggertypes'], summary: 'One trigger type', params: refParams } }, async (request) => {
    const triggerType = await deps.store.triggerTypes.get(request.params.ref);
    if (triggerType === null) throw new NotFoundError('trigger type', request.params.ref);
    return triggerType;
  });
};
