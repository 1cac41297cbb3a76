/**
 * The one place that decides who may call what. Every route declares `config.permission`; a route
 * that does not is refused to everyone (fail closed) and logged. Two hooks, one rule:
 *
 * - onRequest (before the body is read): authenticate (401 UNAUTHENTICATED with WWW-Authenticate),
 *   then refuse early (403 FORBIDDEN) a role that holds the permission for no resource at all.
 * - preHandler (after validation): the full check, on the resources the route's `scope` names
 *   (e.g. the action a POST /v1/executions runs), or unscoped when it names none.
 *
 * Unknown routes need a valid key too (a 401 rather than a 404 tells a stranger nothing).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { authorize, mayEver } from '@reflex/auth';
import { ForbiddenError, UnauthenticatedError, type Permission, type Role } from '@reflex/model';
import { ANONYMOUS, type Authenticator, type Principal } from './authenticator.ts';
import type { RoutePermission } from './route-config.ts';

/** Routes plugins add without our config (the docs UI and its assets) are public by path. */
const PUBLIC_PREFIXES = ['/docs'];

export interface GuardOptions {
  /** false: REFLEX_AUTH=off, every caller is an anonymous admin. */
  enabled: boolean;
  authenticator: Authenticator;
}

function forbidden(principal: Principal, permission: string, ref?: string): ForbiddenError {
  const on = ref === undefined ? '' : ` on '${ref}'`;
  return new ForbiddenError(`role '${principal.role}' may not ${permission}${on}`);
}

export function registerGuard(app: FastifyInstance, options: GuardOptions): void {
  const routes: Array<{ method: string; url: string; permission: RoutePermission | undefined; audit: string | undefined }> = [];
  app.decorate('reflexRoutes', routes);
  app.decorateRequest('principal', null);
  app.decorateRequest('auditNote', null);

  app.addHook('onRoute', (route) => {
    const config = (route.config ??= {});
    if (config.permission === undefined && PUBLIC_PREFIXES.some((p) => route.url === p || route.url.startsWith(`${p}/`))) {
      config.permission = 'public';
    }
    for (const method of [route.method].flat()) routes.push({ method, url: route.url, permission: config.permission, audit: config.audit });
  });

  const principalOf = async (request: FastifyRequest): Promise<Principal> => {
    if (!options.enabled) return ANONYMOUS;
    const principal = await options.authenticator.authenticate(request.headers);
    if (principal === null) throw new UnauthenticatedError();
    return principal;
  };
  const roleOf = async (principal: Principal): Promise<Role | null> => await options.authenticator.role(principal.role);

  app.addHook('onRequest', async (request) => {
    const permission = request.is404 ? 'authenticated' : request.routeOptions.config.permission;
    if (permission === 'public') return;
    const principal = await principalOf(request);
    request.principal = principal;
    if (permission === undefined) {
      request.log.error({ method: request.method, url: request.routeOptions.url }, 'route declares no permission: refused to everyone');
      throw new ForbiddenError('this route declares no permission and is closed', 'ROUTE_UNDECLARED');
    }
    if (permission === 'authenticated') return;
    if (!mayEver(await roleOf(principal), permission)) throw forbidden(principal, permission);
  });

  app.addHook('preHandler', async (request) => {
    const { permission, scope } = request.routeOptions.config;
    const principal = request.principal;
    if (request.is404 || permission === 'public' || permission === 'authenticated') return;
    // onRequest refused both already; never let a gap there open the route.
    if (permission === undefined) throw new ForbiddenError('this route declares no permission and is closed', 'ROUTE_UNDECLARED');
    if (principal === null) throw new UnauthenticatedError();
    const role = await roleOf(principal);
    const checks = scope === undefined ? [] : await scope(request);
    if (checks.length === 0) {
      if (!authorize(role, permission as Permission)) throw forbidden(principal, permission);
      return;
    }
    for (const check of checks) {
      if (!authorize(role, check.permission, check.ref)) throw forbidden(principal, check.permission, check.ref);
    }
  });
}
