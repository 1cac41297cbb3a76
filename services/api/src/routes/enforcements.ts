import type { FastifyPluginAsync } from 'fastify';
import { ValidationError } from '@reflex/model';
import type { RouteDeps } from '../deps.ts';
import { pageOf, pageQuery } from './schemas.ts';

/** Which rules matched an event, and what each did about it. */
export const enforcementRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get<{ Querystring: { event?: string; rule?: string; limit?: number; cursor?: string } }>(
    '/v1/enforcements',
    {
      config: { permission: 'enforcements:read' },
      schema: {
        tags: ['enforcements'],
        summary: 'Rule enforcements of an event (?event=) or of a rule (?rule=)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { event: { type: 'string', maxLength: 64 }, rule: { type: 'string', maxLength: 200 }, ...pageQuery },
        },
      },
    },
    async (request) => {
      const { event, rule, limit, cursor } = request.query;
      if (event !== undefined) return { items: await deps.store.enforcements.listByEvent(event), nextCursor: null };
      if (rule !== undefined) return pageOf(await deps.store.enforcements.list({ rule }, { limit, cursor }));
      throw new ValidationError('give ?event= or ?rule=', [{ field: 'querystring.event', message: 'event or rule is required' }]);
    },
  );
};
