/**
 * Authorization: a role is a list of grants; a grant gives permissions (or patterns of them),
 * optionally only for resources whose ref matches its scope. Deny is the default: no grant, no
 * access. Pure functions over the model's types.
 */
import { PERMISSIONS, type BuiltinRoleName, type Grant, type Permission, type Role } from '@reflex/model';

const READS: Permission[] = [
  'events:read',
  'rules:read',
  'actions:read',
  'triggertypes:read',
  'executions:read',
  'enforcements:read',
  'packs:read',
  'webhooks:read',
  'keys:read',
  'silences:read',
];

const EPOCH = '1970-01-01T00:00:00.000Z';
const builtin = (name: BuiltinRoleName, description: string, grants: Grant[]): Role => ({
  name,
  description,
  grants,
  builtin: true,
  createdAt: EPOCH,
  updatedAt: EPOCH,
});

/** The roles every installation has; they cannot be changed or deleted. */
export const BUILTIN_ROLES: Readonly<Record<BuiltinRoleName, Role>> = {
  admin: builtin('admin', 'everything, including API keys, roles, audit, webhook auth, pack registration and decrypting datastore secrets', [{ permissions: ['*'] }]),
  operator: builtin('operator', 'read everything operational; run, cancel and re-run actions; manage rules, silences and datastore keys (secrets stay masked); answer approvals', [
    {
      permissions: [
        ...READS,
        'rules:write',
        'executions:run',
        'executions:cancel',
        'events:dispatch',
        'inquiries:respond',
        'webhooks:post',
        'keys:write',
        'silences:write',
      ],
    },
  ]),
  viewer: builtin('viewer', 'read only (not API keys, roles or audit; datastore secrets stay masked)', [{ permissions: [...READS] }]),
};

export function isBuiltinRole(name: string): name is BuiltinRoleName {
  return Object.hasOwn(BUILTIN_ROLES, name);
}

/** `*`, `rules:*`, `*:read` or an exact permission. */
export function permissionMatches(pattern: string, permission: string): boolean {
  if (pattern === '*' || pattern === permission) return true;
  const [resource, verb] = permission.split(':');
  return pattern === `${resource}:*` || pattern === `*:${verb}`;
}

/** Permissions a grant pattern covers; a pattern covering none is a mistake worth refusing. */
export function permissionsCovered(pattern: string): Permission[] {
  return PERMISSIONS.filter((p) => permissionMatches(pattern, p));
}

const scopeCache = new Map<string, RegExp>();

/**
 * A scope pattern against a resource ref: `*` matches all; `*` inside matches any run of
 * characters; `linux.*` also matches the pack `linux` itself.
 */
export function scopeMatches(pattern: string, ref: string): boolean {
  if (pattern === '*' || pattern === ref) return true;
  if (pattern.endsWith('.*') && ref === pattern.slice(0, -2)) return true;
  let re = scopeCache.get(pattern);
  if (re === undefined) {
    re = new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&')).join('.*')}$`, 's');
    if (scopeCache.size > 10_000) scopeCache.clear();
    scopeCache.set(pattern, re);
  }
  return re.test(ref);
}

/** Is a grant unscoped (covers every resource)? */
function unscoped(grant: Grant): boolean {
  return grant.scope === undefined || grant.scope.includes('*');
}

/**
 * May `role` do `permission`: on the resource `ref`, or (without a ref) on every resource?
 * A scoped grant never allows the unscoped question: listing all executions needs an unscoped
 * `executions:read`, running `linux.restart` is allowed by `executions:run` scoped to `linux.*`.
 */
export function authorize(role: Role | null | undefined, permission: Permission, ref?: string): boolean {
  if (role === null || role === undefined) return false;
  return role.grants.some(
    (grant) =>
      grant.permissions.some((p) => permissionMatches(p, permission)) &&
      (unscoped(grant) || (ref !== undefined && (grant.scope ?? []).some((s) => scopeMatches(s, ref)))),
  );
}

/** May `role` do `permission` on at least some resource? (The early check, before the body is read.) */
export function mayEver(role: Role | null | undefined, permission: Permission): boolean {
  if (role === null || role === undefined) return false;
  return role.grants.some((grant) => grant.permissions.some((p) => permissionMatches(p, permission)));
}
