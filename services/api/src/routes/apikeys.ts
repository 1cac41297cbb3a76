/**
 * API keys: made by an admin, shown once, stored as a SHA-256 hash, optionally expiring, revocable.
 * Lists never show a secret or a hash. (`apikeys:write` is administrative: whoever holds it can make
 * a key of any role.)
 */
import type { FastifyPluginAsync } from 'fastify';
import { hashKey, newKeySecret } from '@reflex/auth';
import { apiKeyInputSchema, newId, NotFoundError, ValidationError, type ApiKey, type ApiKeyInput, type ApiKeyView } from '@reflex/model';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from './schemas.ts';

export function viewOf(key: ApiKey): ApiKeyView {
  const { hash: _hash, ...view } = key;
  return view;
}

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

export const apiKeyRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.post<{ Body: ApiKeyInput }>(
    '/v1/apikeys',
    {
      config: { permission: 'apikeys:write', audit: 'apikey.create' },
      schema: {
        tags: ['auth'],
        summary: 'Create an API key; the key is in this answer only (store it now)',
        body: apiKeyInputSchema,
        response: { 400: errorResponse },
      },
    },
    async (request, reply) => {
      const { name, role, expiresAt } = request.body;
      const now = new Date();
      if ((await deps.authenticator.role(role)) === null) {
        throw new ValidationError(`no role '${role}'`, [{ field: 'body.role', message: `no role '${role}' (built-in: admin, operator, viewer; or POST /v1/roles)` }]);
      }
      if (expiresAt !== undefined && !(Date.parse(expiresAt) > now.getTime())) {
        throw new ValidationError('expiresAt is in the past', [{ field: 'body.expiresAt', message: 'must be in the future' }]);
      }
      const id = newId();
      const secret = newKeySecret(id);
      const record: ApiKey = { id, name, role, kind: 'key', hash: hashKey(secret), createdAt: now.toISOString() };
      if (request.principal?.id !== undefined) record.createdBy = request.principal.id;
      if (expiresAt !== undefined) record.expiresAt = new Date(expiresAt).toISOString();
      await deps.store.apiKeys.insert(record);
      noteAudit(request, { target: { type: 'apikey', id }, details: { name, role } });
      return reply.code(201).send({ ...viewOf(record), key: secret });
    },
  );

  app.get<{ Querystring: { includeRevoked?: boolean; kind?: 'key' | 'token'; role?: string } }>(
    '/v1/apikeys',
    {
      config: { permission: 'apikeys:read' },
      schema: {
        tags: ['auth'],
        summary: 'API keys (and live tokens), oldest first; never their secrets',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { includeRevoked: { type: 'boolean' }, kind: { enum: ['key', 'token'] }, role: { type: 'string', maxLength: 64 } },
        },
      },
    },
    async (request) => {
      const { includeRevoked, kind, role } = request.query;
      const keys = await deps.store.apiKeys.list({ kind: kind ?? 'key', ...(role === undefined ? {} : { role }), includeRevoked: includeRevoked === true });
      return { items: keys.map(viewOf) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/apikeys/:id',
    { config: { permission: 'apikeys:read' }, schema: { tags: ['auth'], summary: 'One API key, without its secret', params: idParams } },
    async (request) => {
      const key = await deps.store.apiKeys.get(request.params.id);
      if (key === null) throw new NotFoundError('API key', request.params.id);
      return viewOf(key);
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/apikeys/:id',
    {
      config: { permission: 'apikeys:write', audit: 'apikey.revoke' },
      schema: { tags: ['auth'], summary: 'Revoke an API key (and every token minted from it), at once on every API replica', params: idParams },
    },
    async (request) => {
      const revoked = await deps.store.apiKeys.revoke(request.params.id, new Date().toISOString());
      if (revoked === null) throw new NotFoundError('API key', request.params.id);
      await deps.authChanged('apikey.revoke');
      noteAudit(request, { target: { type: revoked.kind === 'token' ? 'token' : 'apikey', id: revoked.id }, details: { name: revoked.name, role: revoked.role } });
      return viewOf(revoked);
    },
  );
};
