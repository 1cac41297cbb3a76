import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, traceIdFrom, validateUser, webhookPayloads, type JsonObject, type JsonValue, type TriggerType } from '@reflex/model';
import { WEBHOOK_TRIGGER } from '../catalog.ts';
import type { RouteDeps } from '../deps.ts';
import { dispatchEvent, resolveTriggerType } from '../dispatch.ts';
import { parseFormBody, parseJsonBody } from '../json-body.ts';
import { WEBHOOK_ROUTE } from '../rate-limits.ts';

/** Credentials never become part of an event. */
const DROPPED_HEADERS = new Set(['authorization', 'proxy-authorization', 'cookie', 'x-reflex-api-key']);

function headersOf(raw: Record<string, string | string[] | undefined>, secretHeader: string | undefined): JsonObject {
  const headers: JsonObject = {};
  for (const [name, value] of Object.entries(raw)) {
    const lower = name.toLowerCase();
    if (value === undefined || DROPPED_HEADERS.has(lower) || lower === secretHeader) continue;
    headers[lower] = Array.isArray(value) ? value.join(', ') : value;
  }
  return headers;
}

/** The body as the sender meant it: JSON, a form, or text; null when there is none. */
function decodeBody(contentType: string | undefined, raw: Buffer): JsonValue {
  if (raw.length === 0) return null;
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  const text = raw.toString('utf8');
  if (type === 'application/json' || type.endsWith('+json')) return parseJsonBody(text);
  if (type === 'application/x-www-form-urlencoded') return parseFormBody(text);
  return text;
}

/**
 * Webhooks. The body is read raw (so an HMAC is checked over the exact bytes the sender signed),
 * the sender authenticated as the url's webhook auth requires, and only then parsed.
 */
export const webhookRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  // This plugin's own parsers: every body stays a Buffer until the sender is authenticated.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));

  app.post<{ Params: { '*': string } }>(
    WEBHOOK_ROUTE,
    {
      config: { permission: 'public' },
      schema: {
        tags: ['webhooks'],
        summary:
          'Turn a POST into events (202 once durable on the bus): a core.webhook event, and the events of pack webhook trigger types whose rules use the url (one per alert of an Alertmanager notification); the url may require a key, a token or a signature',
        response: {
          202: {
            type: 'object',
            properties: { eventId: { type: 'string' }, eventIds: { type: 'array', items: { type: 'string' } }, traceId: { type: 'string' } },
          },
        },
      },
    },
    async (request, reply) => {
      const url = request.params['*'];
      const raw = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      // Authenticate before saying whether the url exists: a stranger learns nothing about protected urls.
      await deps.webhookGuard.check(url, request.headers, raw);
      if (!(await deps.catalog.hasWebhook(url))) throw new NotFoundError('webhook', url);
      const traceId = traceIdFrom(request.headers['x-reflex-trace'] as string | undefined);
      const body = decodeBody(request.headers['content-type'], raw);
      // Every event the request makes, checked before any is published: bad input changes nothing.
      const planned: Array<{ triggerType: TriggerType; payload: JsonValue }> = [];
      for (const listening of await deps.catalog.webhookTypes(url)) {
        if (listening.ref === WEBHOOK_TRIGGER) {
          const triggerType = await resolveTriggerType(deps, WEBHOOK_TRIGGER, 'type');
          const payload: JsonObject = {
            body,
            headers: headersOf(request.headers, await deps.webhookGuard.secretHeaderOf(url)),
            query: { ...(request.query as JsonObject) },
          };
          planned.push({ triggerType, payload });
          continue;
        }
        for (const payload of webhookPayloads(listening, body)) {
          if (listening.payloadSchema !== undefined) validateUser(listening.payloadSchema, payload, 'body', `a ${listening.ref} event`);
          planned.push({ triggerType: listening, payload });
        }
      }
      const eventIds: string[] = [];
      for (const { triggerType, payload } of planned) {
        const event = await dispatchEvent(deps, triggerType, { type: triggerType.ref, payload, triggerParameters: { url }, source: 'webhook', traceId });
        eventIds.push(event.id);
      }
      deps.webhookGuard.accepted(url, (await deps.webhookGuard.configs()).get(url)?.type ?? 'none');
      const only = eventIds.length === 1 && planned[0]?.triggerType.ref === WEBHOOK_TRIGGER ? eventIds[0] : undefined;
      return reply.code(202).send(only === undefined ? { eventIds, traceId } : { eventId: only, traceId });
    },
  );

  app.get(
    '/v1/webhooks/stats',
    {
      config: { permission: 'webhooks:read' },
      schema: { tags: ['webhooks'], summary: 'Per webhook url since this API process started: accepted requests, and refused ones by reason' },
    },
    async () => ({ items: deps.webhookGuard.stats() }),
  );
};
