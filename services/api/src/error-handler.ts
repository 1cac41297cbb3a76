/**
 * The one place that maps errors to HTTP. Every error body is
 * `{ "error": { "code", "message", "details" } }`; a 5xx never leaks internals beyond a message.
 */
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import {
  ajvDetails,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ReflexError,
  UnauthenticatedError,
  UnavailableError,
  ValidationError,
  type ErrorDetail,
} from '@reflex/model';

const STATUS_BY_CODE: Record<string, number> = {
  VALIDATION_FAILED: 400,
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  CONFLICT: 409,
  RULE_EXISTS: 409,
  ILLEGAL_TRANSITION: 409,
  RATE_LIMITED: 429,
  UNAVAILABLE: 503,
};

export interface ErrorBody {
  error: { code: string; message: string; details: ErrorDetail[] };
}

function body(code: string, message: string, details: ErrorDetail[] = []): ErrorBody {
  return { error: { code, message, details } };
}

/** By kind first (every ConflictError is a 409, whatever its code), then by code. */
export function statusOf(err: ReflexError): number {
  if (err instanceof ValidationError) return 400;
  if (err instanceof UnauthenticatedError) return 401;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof ConflictError) return 409;
  if (err instanceof UnavailableError) return 503;
  return STATUS_BY_CODE[err.code] ?? 500;
}

export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ReflexError | Error, request: FastifyRequest, reply: FastifyReply) => {
    if (err instanceof ReflexError) {
      const status = statusOf(err);
      if (status >= 500) request.log.error({ err }, 'request failed');
      if (status === 503) void reply.header('retry-after', '5');
      if (status === 401) void reply.header('www-authenticate', 'Bearer realm="reflex"');
      return reply.code(status).send(body(err.code, err.message, err.details));
    }
    const fe = err as FastifyError;
    if (fe.validation !== undefined) {
      const root = fe.validationContext ?? 'body';
      const details = ajvDetails(fe.validation as Parameters<typeof ajvDetails>[0], root);
      const first = details[0];
      const message = first === undefined ? 'request is invalid' : `request is invalid: ${first.field} ${first.message}`;
      return reply.code(400).send(body('VALIDATION_FAILED', message, details));
    }
    const status = typeof fe.statusCode === 'number' ? fe.statusCode : 500;
    if (status >= 400 && status < 500) {
      const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status === 415 ? 'UNSUPPORTED_MEDIA_TYPE' : status === 429 ? 'RATE_LIMITED' : status === 408 ? 'REQUEST_TIMEOUT' : 'BAD_REQUEST';
      return reply.code(status).send(body(code, fe.message, [{ field: 'body', message: fe.message }]));
    }
    request.log.error({ err }, 'request failed');
    return reply.code(500).send(body('INTERNAL', 'internal error'));
  });

  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send(body('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0] ?? ''}`)),
  );
}
