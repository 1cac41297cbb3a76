import type { FastifyPluginAsync } from 'fastify';
import type { RouteDeps } from '../deps.ts';

export const healthRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get('/v1/health', { config: { permission: 'public' }, schema: { tags: ['health'], summary: 'Liveness of the API and its bus and store' } }, async (_request, reply) => {
    const bus = deps.bus.healthy();
    let store = true;
    try {
      await deps.store.ping();
    } catch {
      store = false;
    }
    const ok = bus && store;
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'degraded', bus: bus ? 'ok' : 'down', store: store ? 'ok' : 'down' });
  });
};
