import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, traceIdFrom, type JsonObject, type JsonValue } from '@reflex/model';
import { WEBHOOK_TRIGGER } from '../catalog.ts';
import type { RouteDeps } from '../deps.ts';
import { dispatchEvent, resolveTriggerType } from '../dispatch.ts';

/** Credentials never become part of an event. */
const DROPPED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-reflex-api-key']);

function headersOf(raw: Record<string, string | string[] | undefined>): JsonObject {
  const headers: JsonObject = {};
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase();
    if (value === undefined || DROPPED_HEADERS.has(lower)) continue;
    headers[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

export const webhookRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.post<{ Params: { '*': string } }>(
    '/v1/webhooks/*',
    {
      schema: {
        tags: ['webhooks'],
        summary: 'Turn a POST into a core.webhook event (202 once durable on the bus)',
        response: { 202: { type: 'object', properties: { eventId: { type: 'string' }, traceId: { type: 'string' } } } },
      },
    },
    async (request, reply) => {
      const url = request.params['*'];
      if (!(await deps.catalog.hasWebhook(url))) throw new NotFoundError('webhook', url);
      const triggerType = await resolveTriggerType(deps, WEBHOOK_TRIGGER, 'type');
      const traceId = traceIdFrom(request.headers['x-reflex-trace'] as string | undefined);
      const payload: JsonObject = {
        body: (request.body ?? null) as JsonValue,
        headers: headersOf(request.headers),
        query: { ...(request.query as JsonObject) },
      };
      const event = await dispatchEvent(deps, triggerType, {
        type: WEBHOOK_TRIGGER,
        payload,
        triggerParameters: { url },
        source: 'webhook',
        traceId,
      });
      return reply.code(202).send({ eventId: event.id, traceId: event.traceId });
    },
  );
};
