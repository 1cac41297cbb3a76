/**
 * The API factory: `buildApi(deps)` returns a ready Fastify instance without listening, so tests
 * use `app.inject()` and the launcher calls `listen()`.
 */
import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import { fastifySSE as sse } from '@fastify/sse';
import swaggerUi from '@fastify/swagger-ui';
import { onChange } from '@reflex/runtime';
import { registerAudit } from './auth/audit.ts';
import { Authenticator } from './auth/authenticator.ts';
import { registerGuard } from './auth/guard.ts';
import { announceAuthChange, onAuthChange } from './auth/notices.ts';
import { Catalog } from './catalog.ts';
import type { ApiDeps, RouteDeps } from './deps.ts';
import { registerErrorHandling } from './error-handler.ts';
import { parseFormBody, parseJsonBody } from './json-body.ts';
import { DEFAULT_LIMITS, registerRateLimits } from './rate-limits.ts';
import { registerValidators } from './validators.ts';
import { WebhookGuard } from './webhook-guard.ts';
import { apiKeyRoutes } from './routes/apikeys.ts';
import { auditRoutes } from './routes/audit.ts';
import { authRoutes } from './routes/auth.ts';
import { catalogRoutes } from './routes/catalog.ts';
import { chatRoutes } from './routes/chat.ts';
import { decisionRoutes } from './routes/decisions.ts';
import { inhibitionRoutes } from './routes/inhibitions.ts';
import { silenceRoutes } from './routes/silences.ts';
import { enforcementRoutes } from './routes/enforcements.ts';
import { eventRoutes } from './routes/events.ts';
import { executionRoutes } from './routes/executions.ts';
import { healthRoutes } from './routes/health.ts';
import { keyRoutes } from './routes/keys.ts';
import { packRoutes } from './routes/packs.ts';
import { roleRoutes } from './routes/roles.ts';
import { sensorRoutes } from './routes/sensors.ts';
import { ruleRoutes } from './routes/rules.ts';
import { ruleBacktestRoutes } from './routes/rule-backtest.ts';
import { ruleStateRoutes } from './routes/rule-state.ts';
import { webhookAuthRoutes } from './routes/webhook-auth.ts';
import { webhookRoutes } from './routes/webhooks.ts';

export async function buildApi(deps: ApiDeps): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits };
  const app = Fastify({
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimitBytes,
    onProtoPoisoning: 'error',
    onConstructorPoisoning: 'error',
    // A client gets `requestTimeoutMs` to send its whole request (checked every second or so: Node's
    // default sweep runs only every 30 s), and an idle connection is closed after two minutes.
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: 120_000,
    http: {
      requestTimeout: limits.requestTimeoutMs,
      headersTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(limits.requestTimeoutMs / 3))),
    },
    // Per-request lines come from our onResponse hook below (debug, or error for a 5xx).
    logController: new LogController({ disableRequestLogging: true }),
    routerOptions: { maxParamLength: 500 },
  });
  registerValidators(app);
  registerErrorHandling(app);

  // JSON is parsed with a depth limit and without prototype-poisoning keys (json-body.ts); webhook
  // senders also use forms (Slack, Twilio) and plain text. (Webhooks read raw bytes: see routes/webhooks.ts.)
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseFormBody(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });
  app.addContentTypeParser('*', { parseAs: 'string' }, (_req, body, done) => done(null, body));

  // Who may call what (one place: auth/guard.ts), rate limits after it, the audit trail on success.
  const authenticator = new Authenticator(deps.store);
  registerGuard(app, { enabled: deps.auth.enabled, authenticator });
  await registerRateLimits(app, limits);
  registerAudit(app, deps.store);
  if (!deps.auth.enabled) {
    deps.logger.warn('authentication is OFF (REFLEX_AUTH=off): anyone who can reach the API can do anything; never expose it');
  }

  app.addHook('onResponse', async (request, reply) => {
    // The path only: a query string is no place for a key, but someone may try.
    const line = { method: request.method, url: request.url.split('?')[0], statusCode: reply.statusCode, ms: Math.round(reply.elapsedTime) };
    if (reply.statusCode >= 500) request.log.error(line, 'request failed');
    else request.log.debug(line, 'request');
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Reflex API', version: '1', description: 'Event-driven automation: events, rules, actions, executions.' },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key or token (rfx_…)' },
          apiKey: { type: 'apiKey', in: 'header', name: 'X-Reflex-Api-Key' },
        },
      },
      security: [{ bearer: [] }, { apiKey: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  await app.register(sse, { heartbeatInterval: 15_000 });

  const catalog = new Catalog(deps.store);
  const webhookGuard = new WebhookGuard({ store: deps.store, authenticator, secretsKey: deps.auth.secretsKey, logger: deps.logger });
  const invalidateAuth = (): void => {
    authenticator.invalidate();
    webhookGuard.invalidate();
  };
  const subscriptions = [
    ...onChange(deps.bus, deps.names, ['rules', 'packs'], () => catalog.invalidate()),
    onAuthChange(deps.bus, deps.names, invalidateAuth),
  ];
  app.addHook('onClose', async () => {
    for (const s of subscriptions) s.unsubscribe();
  });

  const routeDeps: RouteDeps = {
    ...deps,
    catalog,
    authenticator,
    webhookGuard,
    authChanged: async (what) => {
      invalidateAuth();
      await announceAuthChange(deps.bus, deps.names, deps.logger, what);
    },
  };
  for (const plugin of [
    healthRoutes,
    webhookRoutes,
    webhookAuthRoutes,
    eventRoutes,
    ruleRoutes,
    ruleBacktestRoutes,
    ruleStateRoutes,
    catalogRoutes,
    executionRoutes,
    enforcementRoutes,
    packRoutes,
    apiKeyRoutes,
    authRoutes,
    roleRoutes,
    auditRoutes,
    chatRoutes,
    silenceRoutes,
    inhibitionRoutes,
    decisionRoutes,
    keyRoutes,
    sensorRoutes,
  ]) {
    await app.register(plugin, routeDeps);
  }

  // Say once, at start, which webhook urls anyone may post to.
  app.addHook('onReady', async () => {
    try {
      const protectedUrls = await webhookGuard.configs();
      for (const url of await catalog.webhookUrls()) if (!protectedUrls.has(url)) webhookGuard.warnOpen(url);
    } catch (err) {
      deps.logger.warn({ err }, 'could not list open webhook urls');
    }
  });
  return app;
}
