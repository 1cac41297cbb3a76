/**
 * Roles: the built-in admin, operator and viewer (fixed), and custom roles made of grants:
 * permissions (or patterns: `rules:*`, `*:read`) optionally scoped to refs (`linux.*`). A role a
 * live key still holds cannot be deleted. (`roles:write` is administrative: whoever holds it can
 * widen any custom role, its own included.)
 */
import type { FastifyPluginAsync } from 'fastify';
import { BUILTIN_ROLES, isBuiltinRole, permissionsCovered } from '@reflex/auth';
import { ConflictError, NotFoundError, roleInputSchema, ValidationError, type ErrorDetail, type Role, type RoleInput } from '@reflex/model';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from './schemas.ts';

const nameParams = { type: 'object', required: ['name'], properties: { name: { type: 'string', maxLength: 64 } } } as const;

function checkGrants(input: RoleInput): void {
  const details: ErrorDetail[] = [];
  input.grants.forEach((grant, g) =>
    grant.permissions.forEach((pattern, p) => {
      if (permissionsCovered(pattern).length === 0) details.push({ field: `body.grants.${g}.permissions.${p}`, message: `'${pattern}' names no known permission` });
    }),
  );
  if (isBuiltinRole(input.name)) details.push({ field: 'body.name', message: `'${input.name}' is a built-in role` });
  const first = details[0];
  if (first !== undefined) throw new ValidationError(`role is invalid: ${first.field} ${first.message}`, details);
}

function roleOf(input: RoleInput, existing: Role | null): Role {
  const now = new Date().toISOString();
  const role: Role = { name: input.name, grants: input.grants, createdAt: existing?.createdAt ?? now, updatedAt: now };
  if (input.description !== undefined) role.description = input.description;
  return role;
}

export const roleRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get('/v1/roles', { config: { permission: 'roles:read' }, schema: { tags: ['auth'], summary: 'Built-in and custom roles' } }, async () => ({
    items: [...Object.values(BUILTIN_ROLES), ...(await deps.store.roles.list())],
  }));

  app.get<{ Params: { name: string } }>(
    '/v1/roles/:name',
    { config: { permission: 'roles:read' }, schema: { tags: ['auth'], summary: 'One role', params: nameParams } },
    async (request) => {
      const role = await deps.authenticator.role(request.params.name);
      if (role === null) throw new NotFoundError('role', request.params.name);
      return role;
    },
  );

  app.post<{ Body: RoleInput }>(
    '/v1/roles',
    {
      config: { permission: 'roles:write', audit: 'role.create' },
      schema: { tags: ['auth'], summary: 'Create a custom role', body: roleInputSchema, response: { 400: errorResponse, 409: errorResponse } },
    },
    async (request, reply) => {
      checkGrants(request.body);
      if ((await deps.store.roles.get(request.body.name)) !== null) throw new ConflictError(`role '${request.body.name}' already exists`, 'ROLE_EXISTS');
      const role = roleOf(request.body, null);
      await deps.store.roles.put(role);
      await deps.authChanged('role.create');
      noteAudit(request, { target: { type: 'role', id: role.name }, details: { grants: role.grants.length } });
      return reply.code(201).send(role);
    },
  );

  app.put<{ Params: { name: string }; Body: RoleInput }>(
    '/v1/roles/:name',
    {
      config: { permission: 'roles:write', audit: 'role.replace' },
      schema: { tags: ['auth'], summary: 'Create or replace a custom role', params: nameParams, body: roleInputSchema, response: { 400: errorResponse } },
    },
    async (request, reply) => {
      if (request.body.name !== request.params.name) {
        throw new ValidationError('body names another role than the path', [{ field: 'body.name', message: `must equal '${request.params.name}'` }]);
      }
      checkGrants(request.body);
      const existing = await deps.store.roles.get(request.params.name);
      const role = roleOf(request.body, existing);
      await deps.store.roles.put(role);
      await deps.authChanged('role.replace');
      noteAudit(request, { action: existing === null ? 'role.create' : 'role.replace', target: { type: 'role', id: role.name } });
      return reply.code(existing === null ? 201 : 200).send(role);
    },
  );

  app.delete<{ Params: { name: string } }>(
    '/v1/roles/:name',
    {
      config: { permission: 'roles:write', audit: 'role.delete' },
      schema: { tags: ['auth'], summary: 'Delete a custom role no live key holds', params: nameParams, response: { 409: errorResponse } },
    },
    async (request, reply) => {
      const { name } = request.params;
      if (isBuiltinRole(name)) throw new ConflictError(`'${name}' is a built-in role`, 'ROLE_BUILTIN');
      const holders = await deps.store.apiKeys.list({ role: name, kind: 'key' });
      if (holders.length > 0) {
        throw new ConflictError(`role '${name}' is held by ${holders.length} live API key(s) (${holders.slice(0, 5).map((k) => k.name).join(', ')}); revoke them first`, 'ROLE_IN_USE');
      }
      if (!(await deps.store.roles.delete(name))) throw new NotFoundError('role', name);
      await deps.authChanged('role.delete');
      return reply.code(204).send();
    },
  );
};
