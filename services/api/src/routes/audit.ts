import type { FastifyPluginAsync } from 'fastify';
import type { RouteDeps } from '../deps.ts';
import { pageOf, pageQuery } from './schemas.ts';

interface AuditQuery {
  actor?: string;
  action?: string;
  targetType?: string;
  target?: string;
  since?: string;
  until?: string;
  limit?: number;
  cursor?: string;
}

/** The audit trail: who changed what, when, from where; newest first. */
export const auditRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get<{ Querystring: AuditQuery }>(
    '/v1/audit',
    {
      config: { permission: 'audit:read' },
      schema: {
        tags: ['auth'],
        summary: 'Audit entries, newest first (actor is a key id or name; action e.g. rule.create)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            actor: { type: 'string', maxLength: 128 },
            action: { type: 'string', maxLength: 64 },
            targetType: { type: 'string', maxLength: 64 },
            target: { type: 'string', maxLength: 500 },
            since: { type: 'string', format: 'date-time' },
            until: { type: 'string', format: 'date-time' },
            ...pageQuery,
          },
        },
      },
    },
    async (request) => {
      const { actor, action, targetType, target, since, until, limit, cursor } = request.query;
      return pageOf(await deps.store.audit.list({ actor, action, targetType, targetId: target, since, until }, { limit, cursor }));
    },
  );
};
