import type { FastifyPluginAsync } from 'fastify';
import { makeRef, NotFoundError, parseRef, ruleInputSchema, ValidationError, type RuleInput } from '@reflex/model';
import { notifyChange } from '@reflex/runtime';
import { noteAudit, type ScopeCheck } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { checkRule, ruleFromInput } from '../rule-check.ts';
import { errorResponse, refParams } from './schemas.ts';

export const ruleRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const changed = async (op: 'create' | 'update' | 'delete', ref: string): Promise<void> => {
    deps.catalog.invalidate();
    try {
      await notifyChange(deps.bus, deps.names, { topic: 'rules', op, ref });
    } catch (err) {
      // The rule is stored; other services also reload on a timer, so a lost notice only delays them.
      deps.logger.warn({ err, ref }, 'could not announce rule change');
    }
  };

  /** Writing a rule needs rules:write on it and executions:run on the action it will run. */
  const writing = (ref: string, body: RuleInput | undefined): ScopeCheck[] => {
    const checks: ScopeCheck[] = [{ permission: 'rules:write', ref }];
    if (typeof body?.action?.ref === 'string') checks.push({ permission: 'executions:run', ref: body.action.ref });
    return checks;
  };

  app.get<{ Querystring: { pack?: string; enabled?: boolean; triggerType?: string } }>(
    '/v1/rules',
    {
      config: { permission: 'rules:read' },
      schema: {
        tags: ['rules'],
        summary: 'Rules, by ref',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { pack: { type: 'string', maxLength: 64 }, enabled: { type: 'boolean' }, triggerType: { type: 'string', maxLength: 200 } },
        },
      },
    },
    async (request) => ({ items: await deps.store.rules.list(request.query) }),
  );

  app.post<{ Body: RuleInput }>(
    '/v1/rules',
    {
      config: {
        permission: 'rules:write',
        audit: 'rule.create',
        scope: (request) => {
          const body = request.body as RuleInput;
          return writing(makeRef(body.pack, body.name), body);
        },
      },
      schema: { tags: ['rules'], summary: 'Create a rule', body: ruleInputSchema, response: { 400: errorResponse, 409: errorResponse } },
    },
    async (request, reply) => {
      const rule = ruleFromInput(request.body, new Date().toISOString(), null);
      noteAudit(request, { target: { type: 'rule', id: rule.ref }, details: { action: rule.action.ref, enabled: rule.enabled } });
      await checkRule(deps, rule);
      await deps.store.rules.insert(rule);
      await changed('create', rule.ref);
      return reply.code(201).send(rule);
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/v1/rules/:ref',
    {
      config: { permission: 'rules:read', scope: (request) => [{ permission: 'rules:read', ref: (request.params as { ref: string }).ref }] },
      schema: { tags: ['rules'], summary: 'One rule', params: refParams },
    },
    async (request) => {
    const rule = await deps.store.rules.get(request.params.ref);
    if (rule === null) throw new NotFoundError('rule', request.params.ref);
    return rule;
    },
  );

  app.put<{ Params: { ref: string }; Body: RuleInput }>(
    '/v1/rules/:ref',
    {
      config: {
        permission: 'rules:write',
        audit: 'rule.replace',
        scope: (request) => writing((request.params as { ref: string }).ref, request.body as RuleInput),
      },
      schema: { tags: ['rules'], summary: 'Create or replace a rule', params: refParams, body: ruleInputSchema, response: { 400: errorResponse } },
    },
    async (request, reply) => {
      const { ref } = request.params;
      parseRef(ref, 'params.ref');
      if (makeRef(request.body.pack, request.body.name) !== ref) {
        throw new ValidationError(`body names rule '${makeRef(request.body.pack, request.body.name)}' but the path says '${ref}'`, [
          { field: 'body.name', message: `pack.name must equal the ref in the path ('${ref}')` },
        ]);
      }
      const existing = await deps.store.rules.get(ref);
      const rule = ruleFromInput(request.body, new Date().toISOString(), existing);
      await checkRule(deps, rule);
      await deps.store.rules.put(rule);
      noteAudit(request, { action: existing === null ? 'rule.create' : 'rule.replace', target: { type: 'rule', id: ref }, details: { action: rule.action.ref, enabled: rule.enabled } });
      await changed(existing === null ? 'create' : 'update', ref);
      return reply.code(existing === null ? 201 : 200).send(rule);
    },
  );

  app.delete<{ Params: { ref: string } }>(
    '/v1/rules/:ref',
    {
      config: { permission: 'rules:write', audit: 'rule.delete', scope: (request) => [{ permission: 'rules:write', ref: (request.params as { ref: string }).ref }] },
      schema: { tags: ['rules'], summary: 'Delete a rule', params: refParams },
    },
    async (request, reply) => {
      if (!(await deps.store.rules.delete(request.params.ref))) throw new NotFoundError('rule', request.params.ref);
      noteAudit(request, { target: { type: 'rule', id: request.params.ref } });
      await changed('delete', request.params.ref);
      return reply.code(204).send();
    },
  );
};
