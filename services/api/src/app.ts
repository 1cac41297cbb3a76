/**
 * The API factory: `buildApi(deps)` returns a ready Fastify instance without listening, so tests
 * use `app.inject()` and the launcher calls `listen()`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { fastifySSE as sse } from '@fastify/sse';
import swaggerUi from '@fastify/swagger-ui';
import { onChange } from '@reflex/runtime';
import { Catalog } from './catalog.ts';
import type { ApiDeps, RouteDeps } from './deps.ts';
import { registerErrorHandling } from './error-handler.ts';
import { registerValidators } from './validators.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { enforcementRoutes } from './routes/enforcements.ts';
import { eventRoutes } from './routes/events.ts';
import { executionRoutes } from './routes/executions.ts';
import { healthRoutes } from './routes/health.ts';
import { packRoutes } from './routes/packs.ts';
import { ruleRoutes } from './routes/rules.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    requestTimeout: 30_000,
    // Per-request lines come from our onResponse hook below (debug, or error for a 5xx).
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 500 },
  });
  registerValidators(app);
  registerErrorHandling(app);

  // Webhook senders use more than JSON: forms (Slack, Twilio) and plain text keep their content.
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)));
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.addHook('onResponse', async (request, reply) => {
    const line = { method: request.method, url: request.url, statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else request.log.debug(line, 'request');
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Reflex API', version: '1', description: 'Event-driven automation: events, rules, actions, executions.' },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(sse, { heartbeatInterval: 15_000 });

  const catalog = new Catalog(deps.store);
  const subscriptions = onChange(deps.bus, deps.names, ['rules', 'packs'], () => catalog.invalidate());
  app.addHook('onClose', async () => {
    for (const s of subscriptions) s.unsubscribe();
  });

  const routeDeps: RouteDeps = { ...deps, catalog };
  for (const plugin of [healthRoutes, webhookRoutes, eventRoutes, ruleRoutes, catalogRoutes, executionRoutes, enforcementRoutes, packRoutes]) {
    await app.register(plugin, routeDeps);
  }
  return app;
}
