/**
 * Rate limits (@fastify/rate-limit, in memory per API process): each API key (or, without one, each
 * address) gets `rateLimitPerMinute` requests a minute over all routes; each webhook url gets
 * `webhookRateLimitPerMinute`, whoever sends. Over the limit: 429 RATE_LIMITED with Retry-After.
 * The limit runs after authentication (route-level hooks follow the guard's), so it counts per key.
 */
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { ReflexError } from '@reflex/model';

export interface Limits {
  /** Per API key (or per address without one), per minute; 0: unlimited. */
  rateLimitPerMinute: number;
  /** Per webhook url, per minute; 0: unlimited. */
  webhookRateLimitPerMinute: number;
  /** How long a client may take to send its request. */
  requestTimeoutMs: number;
}

export const DEFAULT_LIMITS: Limits = { rateLimitPerMinute: 3000, webhookRateLimitPerMinute: 6000, requestTimeoutMs: 30_000 };

export const WEBHOOK_ROUTE = '/v1/webhooks/*';

const byCaller = (request: FastifyRequest): string => (request.principal?.id === undefined ? `ip:${request.ip}` : `key:${request.principal.id}`);
const byWebhook = (request: FastifyRequest): string => `webhook:${(request.params as Record<string, string | undefined>)['*'] ?? ''}`;

export async function registerRateLimits(app: FastifyInstance, limits: Limits): Promise<void> {
  // Runs before the plugin's own onRoute hook (registered next), which reads `config.rateLimit`.
  app.addHook('onRoute', (route) => {
    const config = (route.config ??= {});
    const webhook = route.url === WEBHOOK_ROUTE && [route.method].flat().includes('POST');
    const max = webhook ? limits.webhookRateLimitPerMinute : limits.rateLimitPerMinute;
    config.rateLimit = max === 0 ? false : { max, timeWindow: 60_000, keyGenerator: webhook ? byWebhook : byCaller };
  });
  await app.register(rateLimit, {
    global: false,
    timeWindow: 60_000,
    cache: 10_000,
    errorResponseBuilder: (_request, context) =>
      new ReflexError('RATE_LIMITED', `too many requests: at most ${context.max} a minute; retry in ${context.after}`),
  });
}
