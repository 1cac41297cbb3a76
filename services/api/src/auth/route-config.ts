/**
 * What every route declares in its `config`: the permission it needs (checked by guard.ts, the one
 * place that authorizes), optionally the resources that permission is about (for scoped grants such
 * as "may run linux.* actions"), and the audit action it records when it succeeds (audit.ts).
 */
import type { FastifyRequest } from 'fastify';
import type { JsonObject, Permission } from '@reflex/model';
import type { Principal } from './authenticator.ts';

/** `public`: no key needed (health, docs, webhooks with their own auth). `authenticated`: any valid key. */
export type RoutePermission = Permission | 'public' | 'authenticated';

/** One resource the request touches, and the permission it needs on it (no ref: needed unscoped). */
export interface ScopeCheck {
  permission: Permission;
  ref?: string;
}

/**
 * The resources a request touches, read after validation (body and params are there). An empty
 * list (e.g. the resource does not exist) means the route's permission is needed unscoped.
 */
export type ScopeResolver = (request: FastifyRequest) => Promise<ScopeCheck[]> | ScopeCheck[];

/** What a handler adds to its route's audit entry. */
export interface AuditNote {
  /** Overrides the route's action (e.g. a PUT that created rather than replaced). */
  action?: string;
  target?: { type: string; id: string };
  details?: JsonObject;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    permission?: RoutePermission;
    scope?: ScopeResolver;
    /** `<resource>.<verb>`: recorded in the audit trail when the request succeeds. */
    audit?: string;
  }
  interface FastifyRequest {
    /** Set by the guard for every non-public route; null on public ones. */
    principal: Principal | null;
    auditNote: AuditNote | null;
  }
  interface FastifyInstance {
    /** Every route and the permission it declared (for the test that no route goes undeclared). */
    readonly reflexRoutes: ReadonlyArray<{ method: string; url: string; permission: RoutePermission | undefined; audit: string | undefined }>;
  }
}

/** Adds to the audit entry the route records when it succeeds. */
export function noteAudit(request: FastifyRequest, note: AuditNote): void {
  request.auditNote = { ...request.auditNote, ...note };
}
