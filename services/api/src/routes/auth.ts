/**
 * Short-lived tokens and "who am I". A token is a random secret like an API key (same format,
 * stored only as its SHA-256), minted from the caller's key with the caller's role and an expiry
 * (default 15 minutes, at most 24 hours, never past the key's own expiry). It stops working when it
 * expires or when its key is revoked; expired tokens are purged with the store's retention sweep.
 */
import type { FastifyPluginAsync } from 'fastify';
import { hashKey, newKeySecret } from '@reflex/auth';
import { ConflictError, newId, tokenInputSchema, type ApiKey, type TokenInput } from '@reflex/model';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';

const DEFAULT_TTL_SECONDS = 900;

export const authRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.post<{ Body: TokenInput | null }>(
    '/v1/auth/tokens',
    {
      config: { permission: 'authenticated', audit: 'token.create' },
      schema: { tags: ['auth'], summary: 'Mint a short-lived token with your key’s role (shown once)', body: tokenInputSchema },
    },
    async (request, reply) => {
      const principal = request.principal;
      if (principal === null || principal.id === undefined) {
        throw new ConflictError('authentication is off (REFLEX_AUTH=off): there is no key to mint a token from', 'AUTH_OFF');
      }
      const now = Date.now();
      const parentId = principal.kind === 'token' ? (principal.parentId ?? principal.id) : principal.id;
      let expiresMs = now + (request.body?.ttlSeconds ?? DEFAULT_TTL_SECONDS) * 1000;
      const parent = await deps.store.apiKeys.get(parentId);
      if (parent?.expiresAt !== undefined) expiresMs = Math.min(expiresMs, Date.parse(parent.expiresAt));
      if (principal.expiresAt !== undefined) expiresMs = Math.min(expiresMs, Date.parse(principal.expiresAt));
      const id = newId();
      const secret = newKeySecret(id);
      const token: ApiKey = {
        id,
        name: `token:${principal.name}`,
        role: principal.role,
        kind: 'token',
        hash: hashKey(secret),
        createdAt: new Date(now).toISOString(),
        createdBy: principal.id,
        expiresAt: new Date(expiresMs).toISOString(),
        parentId,
      };
      await deps.store.apiKeys.insert(token);
      noteAudit(request, { target: { type: 'token', id }, details: { parent: parentId, expiresAt: new Date(expiresMs).toISOString() } });
      return reply.code(201).send({ id, token: secret, role: token.role, expiresAt: token.expiresAt });
    },
  );

  app.get(
    '/v1/auth/whoami',
    { config: { permission: 'authenticated' }, schema: { tags: ['auth'], summary: 'The caller: key id, name, role and the role’s grants' } },
    async (request) => {
      const principal = request.principal;
      const role = principal === null ? null : await deps.authenticator.role(principal.role);
      return { ...principal, grants: role?.grants ?? [] };
    },
  );
};
