import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, PACK_NAME_PATTERN } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { notifyChange } from '@reflex/runtime';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';

export const packRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get('/v1/packs', { config: { permission: 'packs:read' }, schema: { tags: ['packs'], summary: 'Registered packs' } }, async () => ({ items: await deps.store.packs.list() }));

  app.get<{ Params: { name: string } }>(
    '/v1/packs/:name',
    { config: { permission: 'packs:read', scope: (request) => [{ permission: 'packs:read', ref: (request.params as { name: string }).name }] }, schema: { tags: ['packs'], summary: 'One pack and its contents', params: { type: 'object', properties: { name: { type: 'string', maxLength: 64 } } } } },
    async (request) => {
      const { name } = request.params;
      const pack = await deps.store.packs.get(name);
      if (pack === null) throw new NotFoundError('pack', name);
      const [triggerTypes, actions, rules] = await Promise.all([
        deps.store.triggerTypes.list({ pack: name }),
        deps.store.actions.list({ pack: name }),
        deps.store.rules.list({ pack: name }),
      ]);
      return { ...pack, triggerTypes, actions, rules };
    },
  );

  app.post<{ Body: { packs?: string[] } | null }>(
    '/v1/packs/register',
    {
      config: { permission: 'packs:register', audit: 'pack.register' },
      schema: {
        tags: ['packs'],
        summary: 'Load packs from disk (REFLEX_PACKS_PATH) and register them; a pack with errors is not registered, the others are',
        body: {
          type: ['object', 'null'],
          additionalProperties: false,
          properties: { packs: { type: 'array', items: { type: 'string', pattern: PACK_NAME_PATTERN }, maxItems: 1000 } },
        },
      },
    },
    async (request) => {
      const wanted = request.body?.packs;
      const loaded = (await discoverPacks(deps.packsPaths)).filter(
        (p) => wanted === undefined || (p.manifest !== null && wanted.includes(p.manifest.name)),
      );
      const results = await registerPacks(deps.store, loaded);
      noteAudit(request, {
        target: { type: 'pack', id: wanted === undefined ? '*' : wanted.join(',') },
        details: { registered: results.filter((r) => r.ok).map((r) => r.pack), failed: results.filter((r) => !r.ok).map((r) => r.pack) },
      });
      deps.catalog.invalidate();
      try {
        await notifyChange(deps.bus, deps.names, { topic: 'packs', op: 'register' });
      } catch (err) {
        deps.logger.warn({ err }, 'could not announce pack registration');
      }
      return { results };
    },
  );
};
