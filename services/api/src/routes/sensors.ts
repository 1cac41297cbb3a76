/**
 * The sensors of registered packs, each with what the sensors process running it reports:
 *
 *   GET /v1/sensors?pack=linux     every sensor: its definition (sensors/*.yaml) and its status
 *   GET /v1/sensors/:ref           one sensor
 *
 * Definitions are read from the registered packs' folders (sensors are not stored), cached until
 * packs are registered again; statuses come from the datastore's internal scope `sensors.status`,
 * written by whichever sensors process holds each sensor's lease, so every API replica sees them.
 * A sensor no process reports on is `unknown`; one switched off in its YAML is `disabled`.
 */
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, SENSOR_STATUS_SCOPE, type SensorDefinition, type SensorStatus, type SensorView } from '@reflex/model';
import { registeredSensors } from '@reflex/packs';
import { onChange } from '@reflex/runtime';
import type { RouteDeps } from '../deps.ts';
import { refParams, refScope } from './schemas.ts';

/** Definitions are read again after this long even without a change notice. */
const DEFINITIONS_TTL_MS = 10_000;

function viewOf(definition: SensorDefinition, status: SensorStatus | undefined): SensorView {
  if (!definition.enabled) return { ...definition, status: { state: 'disabled' } };
  return { ...definition, status: status ?? { state: 'unknown' } };
}

export const sensorRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  let cached: { at: number; definitions: Promise<SensorDefinition[]> } | undefined;
  const definitions = (): Promise<SensorDefinition[]> => {
    if (cached === undefined || Date.now() - cached.at > DEFINITIONS_TTL_MS) {
      const loading = registeredSensors(deps.store).then(({ sensors }) => sensors.map((s) => s.definition));
      loading.catch(() => {
        if (cached?.definitions === loading) cached = undefined;
      });
      cached = { at: Date.now(), definitions: loading };
    }
    return cached.definitions;
  };
  const subscriptions = onChange(deps.bus, deps.names, ['packs'], () => {
    cached = undefined;
  });
  app.addHook('onClose', async () => {
    for (const s of subscriptions) s.unsubscribe();
  });

  app.get<{ Querystring: { pack?: string } }>(
    '/v1/sensors',
    {
      config: { permission: 'packs:read' },
      schema: {
        tags: ['sensors'],
        summary: 'Sensors of registered packs, each with its status (state, host, pid, restarts, last error, events emitted)',
        querystring: { type: 'object', additionalProperties: false, properties: { pack: { type: 'string', maxLength: 64 } } },
      },
    },
    async (request) => {
      const all = await definitions();
      const wanted = request.query.pack === undefined ? all : all.filter((d) => d.pack === request.query.pack);
      const statuses = await deps.store.keys.list(SENSOR_STATUS_SCOPE, { limit: 10_000 });
      const byRef = new Map(statuses.map((entry) => [entry.name, entry.value as unknown as SensorStatus]));
      return { items: wanted.map((d) => viewOf(d, byRef.get(d.ref))) };
    },
  );

  app.get<{ Params: { ref: string } }>(
    '/v1/sensors/:ref',
    { config: { permission: 'packs:read', scope: refScope('packs:read') }, schema: { tags: ['sensors'], summary: 'One sensor and its status', params: refParams } },
    async (request) => {
      const definition = (await definitions()).find((d) => d.ref === request.params.ref);
      if (definition === undefined) throw new NotFoundError('sensor', request.params.ref);
      const entry = await deps.store.keys.get(SENSOR_STATUS_SCOPE, definition.ref);
      return viewOf(definition, (entry?.value as unknown as SensorStatus | undefined) ?? undefined);
    },
  );
};
