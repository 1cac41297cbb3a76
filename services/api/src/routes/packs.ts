import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { kvSealing } from '@reflex/auth';
import { ConflictError, NotFoundError, PACK_NAME_PATTERN, type JsonObject } from '@reflex/model';
import { dependentsOf, discoverPacks, loadPack, packConfigs, registerPacks, unregisterPack } from '@reflex/packs';
import { notifyChange } from '@reflex/runtime';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from './schemas.ts';

interface NameParams {
  name: string;
}

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: PACK_NAME_PATTERN } } } as const;
const nameScope =
  (permission: 'packs:read' | 'packs:register') =>
  (request: FastifyRequest): Array<{ permission: 'packs:read' | 'packs:register'; ref: string }> => [{ permission, ref: (request.params as NameParams).name }];

export const packRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  // Secret configuration values are sealed with the secrets key, like datastore secrets.
  const sealing = kvSealing(deps.auth.secretsKey);
  const configs = packConfigs(deps.store, sealing);
  const announce = async (op: 'register' | 'unregister' | 'update', ref?: string): Promise<void> => {
    deps.catalog.invalidate();
    try {
      await notifyChange(deps.bus, deps.names, { topic: 'packs', op, ...(ref === undefined ? {} : { ref }) });
    } catch (err) {
      deps.logger.warn({ err, op, pack: ref }, 'could not announce a pack change');
    }
  };

  app.get('/v1/packs', { config: { permission: 'packs:read' }, schema: { tags: ['packs'], summary: 'Registered packs' } }, async () => ({ items: await deps.store.packs.list() }));

  app.get<{ Params: { name: string } }>(
    '/v1/packs/:name',
    { config: { permission: 'packs:read', scope: (request) => [{ permission: 'packs:read', ref: (request.params as { name: string }).name }] }, schema: { tags: ['packs'], summary: 'One pack and its contents', params: { type: 'object', properties: { name: { type: 'string', maxLength: 64 } } } } },
    async (request) => {
      const { name } = request.params;
      const pack = await deps.store.packs.get(name);
      if (pack === null) throw new NotFoundError('pack', name);
      const [triggerTypes, actions, rules, disk] = await Promise.all([
        deps.store.triggerTypes.list({ pack: name }),
        deps.store.actions.list({ pack: name }),
        deps.store.rules.list({ pack: name }),
        // Sensors, policy files and aliases are not stored: they are read from the pack's folder as it is now.
        loadPack(pack.path),
      ]);
      const own = disk.manifest?.name === name;
      return {
        ...pack,
        triggerTypes,
        actions,
        rules,
        sensors: own ? disk.sensors : [],
        policies: own ? disk.policies : [],
        aliases: own ? disk.aliases : [],
      };
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
      const results = await registerPacks(deps.store, loaded, deps.configDir === undefined ? {} : { config: { dir: deps.configDir, sealing } });
      noteAudit(request, {
        target: { type: 'pack', id: wanted === undefined ? '*' : wanted.join(',') },
        details: { registered: results.filter((r) => r.ok).map((r) => r.pack), failed: results.filter((r) => !r.ok).map((r) => r.pack) },
      });
      await announce('register');
      return { results };
    },
  );

  app.delete<{ Params: NameParams }>(
    '/v1/packs/:name',
    {
      config: { permission: 'packs:register', audit: 'pack.unregister', scope: nameScope('packs:register') },
      schema: {
        tags: ['packs'],
        summary: 'Unregister a pack: its trigger types, actions, pack rules and configuration values (API rules stay); 409 while other packs depend on it',
        params: nameParams,
      },
    },
    async (request) => {
      const { name } = request.params;
      if ((await deps.store.packs.get(name)) === null) throw new NotFoundError('pack', name);
      const dependents = await dependentsOf(deps.store, name);
      if (dependents.length > 0) {
        throw new ConflictError(`pack '${name}' is a dependency of ${dependents.map((d) => `'${d}'`).join(', ')}: unregister ${dependents.length === 1 ? 'it' : 'them'} first`, 'PACK_IN_USE');
      }
      const result = await unregisterPack(deps.store, name);
      noteAudit(request, { target: { type: 'pack', id: name }, details: { removed: result.removed } });
      await announce('unregister', name);
      return result;
    },
  );

  app.get<{ Params: NameParams }>(
    '/v1/packs/:name/config',
    {
      config: { permission: 'packs:read', scope: nameScope('packs:read') },
      schema: { tags: ['packs'], summary: "A pack's configuration values (config.schema.yaml), defaults filled in, secrets shown as ********", params: nameParams },
    },
    async (request) => {
      const { name } = request.params;
      return { pack: name, values: await configs.getMasked(name) };
    },
  );

  app.put<{ Params: NameParams; Body: JsonObject }>(
    '/v1/packs/:name/config',
    {
      config: { permission: 'packs:register', audit: 'pack.configure', scope: nameScope('packs:register') },
      schema: {
        tags: ['packs'],
        summary: "Replace a pack's configuration values: checked against its config.schema.yaml (defaults filled in); a secret sent as ******** keeps its stored value",
        params: nameParams,
        body: { type: 'object' },
        response: { 400: errorResponse },
      },
    },
    async (request) => {
      const { name } = request.params;
      const values = await configs.put(name, request.body, { root: 'body' });
      // Which properties were set, never their values.
      noteAudit(request, { target: { type: 'pack', id: name }, details: { properties: Object.keys(request.body).sort() } });
      await announce('update', name);
      return { pack: name, values };
    },
  );
};
