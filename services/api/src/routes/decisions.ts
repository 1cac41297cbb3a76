/**
 * "Why was — or wasn't — I paged?": what every rule whose criteria matched an event decided about
 * it (fired, failed, throttled, grouped, silenced, inhibited; or that its criteria could not be
 * evaluated), with the reason, the window or group it joined and, for those, when that window or
 * group fired afterwards. A rule with no decision did not match the event.
 */
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError, type Decision } from '@reflex/model';
import type { RouteDeps } from '../deps.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** A later firing of the window or group a decision is about. */
interface WindowFiring {
  at: string;
  outcome: Decision['outcome'];
  seq?: number;
  enforcementId?: string;
  executionId?: string;
  reason: string;
}

export const decisionRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get<{ Params: { id: string } }>(
    '/v1/events/:id/decisions',
    {
      config: { permission: 'events:read' },
      schema: { tags: ['events'], summary: 'What each matching rule decided about an event, and why', params: idParams },
    },
    async (request) => {
      const { id } = request.params;
      const [event, decisions] = await Promise.all([deps.store.events.get(id), deps.store.decisions.listByEvent(id)]);
      if (event === null && decisions.length === 0) throw new NotFoundError('event', id);
      const items = await Promise.all(
        decisions.map(async (d) => {
          if (d.window === undefined || (d.outcome !== 'grouped' && d.outcome !== 'throttled')) return d;
          // Firings of the window or group since this event joined it (recorded by the scheduler).
          const firings: WindowFiring[] = (await deps.store.decisions.listByWindow(d.window.id, { limit: 1000 }))
            .filter((f) => f.rule === d.rule && f.id !== d.id && (f.outcome === 'fired' || f.outcome === 'failed') && f.window?.seq !== undefined && f.at >= d.at)
            .map((f) => ({
              at: f.at,
              outcome: f.outcome,
              reason: f.reason,
              ...(f.window?.seq === undefined ? {} : { seq: f.window.seq }),
              ...(f.enforcementId === undefined ? {} : { enforcementId: f.enforcementId }),
              ...(f.executionId === undefined ? {} : { executionId: f.executionId }),
            }));
          return { ...d, windowFirings: firings };
        }),
      );
      return { eventId: id, ...(event === null ? {} : { type: event.type, occurredAt: event.occurredAt }), items };
    },
  );
};
