import type { FastifyPluginAsync } from 'fastify';
import { ConflictError, NotFoundError, traceIdFrom, type Execution } from '@reflex/model';
import type { ScopeResolver } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { requestExecution } from '../execution-requests.ts';
import { maskExecution } from '../secrets.ts';

/** Matches the chat runner's code for a delivery that ran out of attempts (see @reflex/chat). */
const CHAT_EXHAUSTED = 'CHAT_EXHAUSTED';
const CHAT_ACTIONS = ['chat.post', 'chat.update'];

function isDeadLetter(execution: Execution): boolean {
  return CHAT_ACTIONS.includes(execution.action) && execution.status === 'failed' && execution.error?.code === CHAT_EXHAUSTED;
}

/**
 * The dead-letter list: chat executions whose delivery ran out of attempts. They are ordinary
 * failed executions (nothing is copied), and a re-send is a re-run linked to the original.
 */
export const chatRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  /** A re-send runs the dead letter's action again: scoped grants are checked against that action. */
  const resendScope: ScopeResolver = async (request) => {
    const execution = await deps.store.executions.get((request.params as { id: string }).id);
    return execution === null ? [] : [{ permission: 'executions:run', ref: execution.action }];
  };

  app.get<{ Querystring: { limit?: number } }>(
    '/v1/chat/dead-letters',
    {
      config: { permission: 'executions:read' },
      schema: {
        tags: ['chat'],
        summary: 'Chat messages that could not be delivered after every retry, newest first',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 1000 } } },
      },
    },
    async (request) => {
      const limit = request.query.limit ?? 100;
      const found: Execution[] = [];
      for (const action of CHAT_ACTIONS) {
        let cursor: string | undefined;
        // Scan failed chat executions until `limit` dead letters per action are found or none are left.
        do {
          const page = await deps.store.executions.list({ action, status: 'failed' }, { limit: 500, ...(cursor === undefined ? {} : { cursor }) });
          found.push(...page.items.filter(isDeadLetter));
          cursor = page.nextCursor;
        } while (cursor !== undefined && found.filter((e) => e.action === action).length < limit);
      }
      found.sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0));
      return { items: await Promise.all(found.slice(0, limit).map((e) => maskExecution(deps.catalog, e))) };
    },
  );

  app.post<{ Params: { id: string } }>(
    '/v1/chat/dead-letters/:id/resend',
    {
      config: { permission: 'executions:run', audit: 'execution.rerun', scope: resendScope },
      schema: {
        tags: ['chat'],
        summary: 'Send a dead letter again (a new execution that re-runs it)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request, reply) => {
      const original = await deps.store.executions.get(request.params.id);
      if (original === null) throw new NotFoundError('dead letter', request.params.id);
      if (!isDeadLetter(original)) throw new ConflictError(`execution '${original.id}' is not a dead letter`, 'NOT_A_DEAD_LETTER');
      const execution = await requestExecution(deps, {
        action: original.action,
        parameters: original.parameters,
        traceId: traceIdFrom(request.headers['x-reflex-trace'] as string | undefined),
        rerunOf: original.id,
      });
      return reply.code(201).send(await maskExecution(deps.catalog, execution));
    },
  );
};
