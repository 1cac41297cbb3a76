/**
 * The audit trail: a route that declares `config.audit` records, when it succeeds (2xx), who
 * (key id, name, role), what (the action and its target), when, from where (the caller's address)
 * and the trace id. Written before the response leaves, so a client that saw success finds the
 * entry; a failed write is logged (the change itself is already made).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { newId, type AuditActor, type AuditEntry } from '@reflex/model';
import type { Store } from '@reflex/store';
import type { Principal } from './authenticator.ts';

export function actorOf(principal: Principal | null): AuditActor {
  if (principal === null) return { kind: 'anonymous', name: 'anonymous' };
  const actor: AuditActor = { kind: principal.kind, name: principal.name, role: principal.role };
  if (principal.id !== undefined) actor.id = principal.id;
  return actor;
}

/** The target a route names in its path, when the handler did not say. */
function targetFromPath(request: FastifyRequest, action: string): AuditEntry['target'] {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const id = params['ref'] ?? params['id'] ?? params['name'] ?? params['*'];
  return typeof id === 'string' ? { type: action.split('.')[0] ?? 'resource', id } : undefined;
}

export function registerAudit(app: FastifyInstance, store: Store): void {
  app.addHook('onSend', async (request, reply, payload) => {
    const routeAction = request.routeOptions.config.audit;
    if (routeAction === undefined || reply.statusCode >= 300) return payload;
    const note = request.auditNote;
    const action = note?.action ?? routeAction;
    const entry: AuditEntry = { id: newId(), at: new Date().toISOString(), actor: actorOf(request.principal), action, ip: request.ip, status: reply.statusCode };
    const target = note?.target ?? targetFromPath(request, action);
    if (target !== undefined) entry.target = target;
    if (note?.details !== undefined) entry.details = note.details;
    const trace = request.headers['x-reflex-trace'];
    if (typeof trace === 'string' && /^[A-Za-z0-9_.:-]{1,128}$/.test(trace)) entry.traceId = trace;
    try {
      await store.audit.append(entry);
    } catch (err) {
      request.log.error({ err, action, target: entry.target }, 'could not write the audit entry');
    }
    return payload;
  });
}
