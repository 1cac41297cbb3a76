/**
 * Inhibitions: while an event matching `source` is active, events matching `target` with the same
 * values at the `equal` paths are muted (recorded as `inhibited`, naming the source event).
 * Configuration like rules: reading and writing them takes the rules permissions.
 */
import type { FastifyPluginAsync } from 'fastify';
import { inhibitionInputSchema, newId, NotFoundError, ValidationError, type Inhibition, type InhibitionInput } from '@reflex/model';
import { inhibitionProblems } from '@reflex/rules';
import { notifyChange } from '@reflex/runtime';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from './schemas.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

function inhibitionOf(input: InhibitionInput, createdBy: string): Inhibition {
  const inhibition: Inhibition = {
    id: newId(),
    source: input.source,
    target: input.target,
    equal: input.equal ?? [],
    duration: input.duration,
    createdBy: input.createdBy ?? createdBy,
    createdAt: new Date().toISOString(),
  };
  if (input.name !== undefined) inhibition.name = input.name;
  if (input.resolved !== undefined) inhibition.resolved = input.resolved;
  if (input.comment !== undefined) inhibition.comment = input.comment;
  const details = inhibitionProblems(inhibition, 'body');
  const first = details[0];
  if (first !== undefined) throw new ValidationError(`inhibition is invalid: ${first.field} ${first.message}`, details);
  return inhibition;
}

export const inhibitionRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const changed = async (op: 'create' | 'delete', id: string): Promise<void> => {
    try {
      await notifyChange(deps.bus, deps.names, { topic: 'noise', op, ref: id });
    } catch (err) {
      // Stored; rules engines also reload on a timer, so a lost notice only delays them.
      deps.logger.warn({ err, inhibition: id }, 'could not announce inhibition change');
    }
  };

  app.get(
    '/v1/inhibitions',
    { config: { permission: 'rules:read' }, schema: { tags: ['noise'], summary: 'Inhibitions, oldest first' } },
    async () => ({ items: await deps.store.inhibitions.list() }),
  );

  app.post<{ Body: InhibitionInput }>(
    '/v1/inhibitions',
    {
      config: { permission: 'rules:write', audit: 'inhibition.create' },
      schema: {
        tags: ['noise'],
        summary: 'While a source event is active, mute target events with equal values',
        body: inhibitionInputSchema,
        response: { 400: errorResponse },
      },
    },
    async (request, reply) => {
      const inhibition = inhibitionOf(request.body, request.principal?.name ?? 'anonymous');
      await deps.store.inhibitions.insert(inhibition);
      noteAudit(request, { target: { type: 'inhibition', id: inhibition.id }, details: { equal: inhibition.equal, duration: inhibition.duration } });
      await changed('create', inhibition.id);
      return reply.code(201).send(inhibition);
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/inhibitions/:id',
    { config: { permission: 'rules:read' }, schema: { tags: ['noise'], summary: 'One inhibition', params: idParams } },
    async (request) => {
      const inhibition = await deps.store.inhibitions.get(request.params.id);
      if (inhibition === null) throw new NotFoundError('inhibition', request.params.id);
      return inhibition;
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/inhibitions/:id',
    { config: { permission: 'rules:write', audit: 'inhibition.delete' }, schema: { tags: ['noise'], summary: 'Delete an inhibition', params: idParams } },
    async (request, reply) => {
      if (!(await deps.store.inhibitions.delete(request.params.id))) throw new NotFoundError('inhibition', request.params.id);
      noteAudit(request, { target: { type: 'inhibition', id: request.params.id } });
      await changed('delete', request.params.id);
      return reply.code(204).send();
    },
  );
};
