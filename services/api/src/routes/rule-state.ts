/**
 * Turning a rule on or off without rewriting it: `PATCH /v1/rules/:ref { "enabled": false }`.
 * Unlike a PUT, it keeps the rule's source, so a pack rule stays a pack rule (registering the pack
 * again sets it back to what its YAML says). Enabling needs `executions:run` on the rule's action too,
 * as writing the rule would.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { NotFoundError } from '@reflex/model';
import { notifyChange } from '@reflex/runtime';
import { noteAudit, type ScopeCheck } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse, refParams } from './schemas.ts';

interface StateBody {
  enabled: boolean;
}

export const ruleStateRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.patch<{ Params: { ref: string }; Body: StateBody }>(
    '/v1/rules/:ref',
    {
      config: {
        permission: 'rules:write',
        audit: 'rule.state',
        scope: async (request: FastifyRequest): Promise<ScopeCheck[]> => {
          const { ref } = request.params as { ref: string };
          const rule = await deps.store.rules.get(ref);
          if (rule === null) return [];
          const checks: ScopeCheck[] = [{ permission: 'rules:write', ref }];
          if ((request.body as StateBody).enabled) checks.push({ permission: 'executions:run', ref: rule.action.ref });
          return checks;
        },
      },
      schema: {
        tags: ['rules'],
        summary: 'Enable or disable a rule (keeps its source: a pack rule stays a pack rule)',
        params: refParams,
        body: { type: 'object', additionalProperties: false, required: ['enabled'], properties: { enabled: { type: 'boolean' } } },
        response: { 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const { ref } = request.params;
      const rule = await deps.store.rules.get(ref);
      if (rule === null) throw new NotFoundError('rule', ref);
      const { enabled } = request.body;
      noteAudit(request, { action: enabled ? 'rule.enable' : 'rule.disable', target: { type: 'rule', id: ref }, details: { source: rule.source } });
      if (rule.enabled === enabled) return rule;
      const updated = { ...rule, enabled, updatedAt: new Date().toISOString() };
      await deps.store.rules.put(updated);
      deps.catalog.invalidate();
      try {
        await notifyChange(deps.bus, deps.names, { topic: 'rules', op: 'update', ref });
      } catch (err) {
        // Stored; engines also reload on a timer, so a lost notice only delays them.
        deps.logger.warn({ err, ref }, 'could not announce rule change');
      }
      return updated;
    },
  );
};
