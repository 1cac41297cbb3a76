/**
 * The datastore: JSON values by scope and name.
 *
 *   GET    /v1/keys?scope=system&prefix=db.&decrypt=true   entries of one scope, by name
 *   GET    /v1/keys/:scope/:name?decrypt=true               one entry
 *   PUT    /v1/keys/:scope/:name  { value, secret?, ttlSeconds? | expiresAt? }
 *   DELETE /v1/keys/:scope/:name
 *
 * Scopes are `system` and `pack:<pack>`; internal scopes (chat receipts, ...) are out of reach. A
 * secret is sealed with the secrets key, bound to its scope and name, and answers show `********`
 * unless the caller asks `decrypt=true` and holds `keys:decrypt`. Grants scoped to a pack (`linux.*`)
 * cover that pack's keys (`linux.<name>`); system keys need unscoped grants. Writes are audited
 * (never the value) and announced on `<prefix>.control.keys` so rules engines drop cached keys.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { openKeyValue, sealKeyValue } from '@reflex/auth';
import {
  keyInputSchema,
  KV_NAME_PATTERN,
  KV_SCOPE_PATTERN,
  KV_VALUE_MAX_BYTES,
  NotFoundError,
  parseKvScope,
  SECRET_MASK,
  ValidationError,
  type KeyInput,
  type KeyView,
  type Permission,
} from '@reflex/model';
import { notifyChange } from '@reflex/runtime';
import type { KeyEntry } from '@reflex/store';
import { noteAudit, type ScopeCheck } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from './schemas.ts';

interface KeyParams {
  scope: string;
  name: string;
}

const keyParams = {
  type: 'object',
  required: ['scope', 'name'],
  properties: { scope: { type: 'string', pattern: KV_SCOPE_PATTERN }, name: { type: 'string', pattern: KV_NAME_PATTERN } },
} as const;

const decryptQuery = { type: 'object', additionalProperties: false, properties: { decrypt: { type: 'boolean' } } } as const;

/** The resource a grant's scope is matched against: `<pack>` or `<pack>.<name>`; none (unscoped) for system keys. */
function refOf(scope: string, name?: string): string | undefined {
  const parsed = parseKvScope(scope, 'params.scope');
  if (parsed.kind === 'system') return undefined;
  return name === undefined ? parsed.pack : `${parsed.pack}.${name}`;
}

function checks(permissions: Permission[], scope: string, name?: string): ScopeCheck[] {
  const ref = refOf(scope, name);
  return permissions.map((permission) => (ref === undefined ? { permission } : { permission, ref }));
}

const reading = (decrypt: boolean | undefined): Permission[] => (decrypt === true ? ['keys:read', 'keys:decrypt'] : ['keys:read']);

export const keyRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const viewOf = (entry: KeyEntry, decrypt: boolean): KeyView => {
    const secret = entry.secret === true;
    const view: KeyView = {
      scope: entry.scope,
      name: entry.name,
      value: !secret ? entry.value : decrypt ? openKeyValue(deps.auth.secretsKey, entry.scope, entry.name, entry.value) : SECRET_MASK,
      secret,
      updatedAt: entry.updatedAt,
    };
    if (entry.expiresAt !== undefined) view.expiresAt = entry.expiresAt;
    return view;
  };

  const announce = async (op: 'create' | 'update' | 'delete', scope: string, name: string): Promise<void> => {
    try {
      await notifyChange(deps.bus, deps.names, { topic: 'keys', op, ref: `${scope}/${name}` });
    } catch (err) {
      // Stored; rules engines also drop cached keys after a few seconds, so a lost notice only delays them.
      deps.logger.warn({ err, scope, name }, 'could not announce a datastore change');
    }
  };

  app.get<{ Querystring: { scope?: string; prefix?: string; limit?: number; decrypt?: boolean } }>(
    '/v1/keys',
    {
      config: {
        permission: 'keys:read',
        scope: (request: FastifyRequest) => {
          const query = request.query as { scope?: string; decrypt?: boolean };
          return checks(reading(query.decrypt), query.scope ?? 'system');
        },
      },
      schema: {
        tags: ['datastore'],
        summary: 'Datastore entries of one scope (default system), by name; secrets masked unless decrypt=true (keys:decrypt)',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            scope: { type: 'string', pattern: KV_SCOPE_PATTERN },
            prefix: { type: 'string', maxLength: 256 },
            limit: { type: 'integer', minimum: 1, maximum: 1000 },
            decrypt: { type: 'boolean' },
          },
        },
      },
    },
    async (request) => {
      const { scope = 'system', prefix, limit, decrypt } = request.query;
      const entries = await deps.store.keys.list(scope, { ...(prefix === undefined ? {} : { prefix }), limit: limit ?? 1000 });
      return { items: entries.map((e) => viewOf(e, decrypt === true)) };
    },
  );

  app.get<{ Params: KeyParams; Querystring: { decrypt?: boolean } }>(
    '/v1/keys/:scope/:name',
    {
      config: {
        permission: 'keys:read',
        scope: (request: FastifyRequest) => {
          const { scope, name } = request.params as KeyParams;
          return checks(reading((request.query as { decrypt?: boolean }).decrypt), scope, name);
        },
      },
      schema: { tags: ['datastore'], summary: 'One datastore entry; a secret is masked unless decrypt=true (keys:decrypt)', params: keyParams, querystring: decryptQuery },
    },
    async (request) => {
      const { scope, name } = request.params;
      const entry = await deps.store.keys.get(scope, name);
      if (entry === null) throw new NotFoundError('key', `${scope}/${name}`);
      return viewOf(entry, request.query.decrypt === true);
    },
  );

  app.put<{ Params: KeyParams; Body: KeyInput }>(
    '/v1/keys/:scope/:name',
    {
      config: {
        permission: 'keys:write',
        audit: 'key.set',
        scope: (request: FastifyRequest) => {
          const { scope, name } = request.params as KeyParams;
          return checks(['keys:write'], scope, name);
        },
      },
      schema: {
        tags: ['datastore'],
        summary: 'Create or replace an entry: any JSON value; secret: true seals it; ttlSeconds or expiresAt makes it expire',
        params: keyParams,
        body: keyInputSchema,
        response: { 400: errorResponse },
      },
    },
    async (request, reply) => {
      const { scope, name } = request.params;
      const { value, ttlSeconds, expiresAt } = request.body;
      if (ttlSeconds !== undefined && expiresAt !== undefined) {
        throw new ValidationError('give ttlSeconds or expiresAt, not both', [{ field: 'body.ttlSeconds', message: 'cannot be given with expiresAt' }]);
      }
      if (expiresAt !== undefined && !(Date.parse(expiresAt) > Date.now())) {
        throw new ValidationError('expiresAt is in the past', [{ field: 'body.expiresAt', message: 'must be in the future' }]);
      }
      const bytes = Buffer.byteLength(JSON.stringify(value));
      if (bytes > KV_VALUE_MAX_BYTES) {
        throw new ValidationError(`value is ${bytes} bytes`, [{ field: 'body.value', message: `is ${bytes} bytes as JSON; the limit is ${KV_VALUE_MAX_BYTES}` }]);
      }
      const existing = await deps.store.keys.get(scope, name);
      // Replacing a secret keeps it secret unless the caller says `secret: false`.
      const secret = request.body.secret ?? existing?.secret === true;
      const expiry = ttlSeconds !== undefined ? new Date(Date.now() + ttlSeconds * 1000).toISOString() : expiresAt === undefined ? undefined : new Date(expiresAt).toISOString();
      const entry = await deps.store.keys.put({
        scope,
        name,
        value: secret ? sealKeyValue(deps.auth.secretsKey, scope, name, value) : value,
        ...(secret ? { secret: true } : {}),
        ...(expiry === undefined ? {} : { expiresAt: expiry }),
      });
      noteAudit(request, {
        target: { type: 'key', id: `${scope}/${name}` },
        details: { created: existing === null, secret, ...(expiry === undefined ? {} : { expiresAt: expiry }) },
      });
      await announce(existing === null ? 'create' : 'update', scope, name);
      return reply.code(existing === null ? 201 : 200).send(viewOf(entry, false));
    },
  );

  app.delete<{ Params: KeyParams }>(
    '/v1/keys/:scope/:name',
    {
      config: {
        permission: 'keys:write',
        audit: 'key.delete',
        scope: (request: FastifyRequest) => {
          const { scope, name } = request.params as KeyParams;
          return checks(['keys:write'], scope, name);
        },
      },
      schema: { tags: ['datastore'], summary: 'Delete an entry', params: keyParams },
    },
    async (request, reply) => {
      const { scope, name } = request.params;
      if (!(await deps.store.keys.delete(scope, name))) throw new NotFoundError('key', `${scope}/${name}`);
      noteAudit(request, { target: { type: 'key', id: `${scope}/${name}` } });
      await announce('delete', scope, name);
      return reply.code(204).send();
    },
  );
};
