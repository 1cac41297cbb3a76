/**
 * Silences: mute the events whose values match every matcher, for a while, without losing them
 * (the rules engine records each muted event's decision as `silenced`, naming the silence). DELETE
 * ends a silence now; it stays listed as expired, so decisions that name it still explain themselves.
 */
import type { FastifyPluginAsync } from 'fastify';
import {
  newId,
  NotFoundError,
  parseDuration,
  silenceInputSchema,
  silenceStatus,
  ValidationError,
  type ErrorDetail,
  type Silence,
  type SilenceInput,
  type SilenceStatus,
} from '@reflex/model';
import { matcherProblems } from '@reflex/rules';
import { notifyChange } from '@reflex/runtime';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from './schemas.ts';

const idParams = { type: 'object', required: ['id'], properties: { id: { type: 'string', maxLength: 64 } } } as const;

/** A silence as the API shows it: with its status now. */
function view(silence: Silence, nowMs: number): Silence & { status: SilenceStatus } {
  return { ...silence, status: silenceStatus(silence, nowMs) };
}

function silenceOf(input: SilenceInput, createdBy: string, nowMs: number): Silence {
  const details: ErrorDetail[] = matcherProblems(input.matchers, 'body.matchers');
  const now = new Date(nowMs).toISOString();
  const startsMs = input.startsAt === undefined ? nowMs : Date.parse(input.startsAt);
  let endsMs = Number.NaN;
  if ((input.endsAt === undefined) === (input.duration === undefined)) {
    details.push({ field: 'body.endsAt', message: 'give endsAt or duration (one of them)' });
  } else if (input.endsAt !== undefined) {
    endsMs = Date.parse(input.endsAt);
  } else {
    try {
      endsMs = startsMs + parseDuration(input.duration, 'body.duration');
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      details.push(...(err.details ?? []));
    }
  }
  if (Number.isFinite(endsMs) && endsMs <= Math.max(startsMs, nowMs)) {
    details.push({ field: input.endsAt === undefined ? 'body.duration' : 'body.endsAt', message: 'must end after it starts, and in the future' });
  }
  const first = details[0];
  if (first !== undefined) throw new ValidationError(`silence is invalid: ${first.field} ${first.message}`, details);
  return {
    id: newId(nowMs),
    matchers: input.matchers,
    startsAt: new Date(startsMs).toISOString(),
    endsAt: new Date(endsMs).toISOString(),
    createdBy: input.createdBy ?? createdBy,
    comment: input.comment,
    createdAt: now,
    updatedAt: now,
  };
}

export const silenceRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  const changed = async (op: 'create' | 'delete', id: string): Promise<void> => {
    try {
      await notifyChange(deps.bus, deps.names, { topic: 'noise', op, ref: id });
    } catch (err) {
      // Stored; rules engines also reload on a timer, so a lost notice only delays them.
      deps.logger.warn({ err, silence: id }, 'could not announce silence change');
    }
  };

  app.get<{ Querystring: { status?: SilenceStatus } }>(
    '/v1/silences',
    {
      config: { permission: 'silences:read' },
      schema: {
        tags: ['noise'],
        summary: 'Silences, oldest first, with their status (pending, active, expired)',
        querystring: { type: 'object', additionalProperties: false, properties: { status: { enum: ['pending', 'active', 'expired'] } } },
      },
    },
    async (request) => {
      const now = Date.now();
      const items = (await deps.store.silences.list()).map((s) => view(s, now));
      return { items: request.query.status === undefined ? items : items.filter((s) => s.status === request.query.status) };
    },
  );

  app.post<{ Body: SilenceInput }>(
    '/v1/silences',
    {
      config: { permission: 'silences:write', audit: 'silence.create' },
      schema: {
        tags: ['noise'],
        summary: 'Silence matching events from startsAt (default now) until endsAt (or for duration)',
        body: silenceInputSchema,
        response: { 400: errorResponse },
      },
    },
    async (request, reply) => {
      const now = Date.now();
      const silence = silenceOf(request.body, request.principal?.name ?? 'anonymous', now);
      await deps.store.silences.insert(silence);
      noteAudit(request, { target: { type: 'silence', id: silence.id }, details: { endsAt: silence.endsAt, matchers: silence.matchers.length } });
      await changed('create', silence.id);
      return reply.code(201).send(view(silence, now));
    },
  );

  app.get<{ Params: { id: string } }>(
    '/v1/silences/:id',
    { config: { permission: 'silences:read' }, schema: { tags: ['noise'], summary: 'One silence', params: idParams } },
    async (request) => {
      const silence = await deps.store.silences.get(request.params.id);
      if (silence === null) throw new NotFoundError('silence', request.params.id);
      return view(silence, Date.now());
    },
  );

  app.delete<{ Params: { id: string } }>(
    '/v1/silences/:id',
    {
      config: { permission: 'silences:write', audit: 'silence.expire' },
      schema: { tags: ['noise'], summary: 'End a silence now (it stays listed, expired)', params: idParams },
    },
    async (request, reply) => {
      const ended = await deps.store.silences.expire(request.params.id, new Date().toISOString());
      if (ended === null) throw new NotFoundError('silence', request.params.id);
      noteAudit(request, { target: { type: 'silence', id: ended.id } });
      await changed('delete', ended.id);
      return reply.code(204).send();
    },
  );
};
