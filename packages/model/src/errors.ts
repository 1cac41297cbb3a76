/**
 * Coded errors. Every error that leaves a package is a ReflexError with a stable `code`;
 * the API maps codes to HTTP status in one place. Errors that cross the bus are plain JSON
 * (see `toErrorJson`), never a process's stack.
 */

export interface ErrorDetail {
  /** Where the problem is, as a dotted path (`body.trigger.type`, `parameters.message`). */
  field: string;
  message: string;
}

export interface ErrorJson {
  name: string;
  code: string;
  message: string;
  details?: ErrorDetail[];
}

export class ReflexError extends Error {
  readonly code: string;
  readonly details: ErrorDetail[] | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; details?: ErrorDetail[] }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.details = options?.details;
  }

  toJSON(): ErrorJson {
    return toErrorJson(this);
  }
}

/** Input failed a schema or a semantic check. `details` names every offending field. */
export class ValidationError extends ReflexError {
  constructor(message: string, details: ErrorDetail[] = [], options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'VALIDATION_FAILED', message, { details, cause: options?.cause });
  }
}

export class NotFoundError extends ReflexError {
  constructor(kind: string, id: string) {
    super('NOT_FOUND', `${kind} '${id}' not found`, { details: [{ field: kind, message: `no ${kind} '${id}'` }] });
  }
}

export class ConflictError extends ReflexError {
  constructor(message: string, code = 'CONFLICT') {
    super(code, message);
  }
}

/** A dependency (bus, store) cannot take the request now; nothing was written. */
export class UnavailableError extends ReflexError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/** The request carries no valid credentials (HTTP 401). */
export class UnauthenticatedError extends ReflexError {
  constructor(message = 'authentication required: send an API key as `Authorization: Bearer <key>`', code = 'UNAUTHENTICATED') {
    super(code, message);
  }
}

/** The caller is known but its role lacks the permission (HTTP 403). */
export class ForbiddenError extends ReflexError {
  constructor(message: string, code = 'FORBIDDEN') {
    super(code, message);
  }
}

/** An action failed in a way that retrying cannot fix (bad parameters, missing entry point). */
export class NonRetriableError extends ReflexError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'NON_RETRIABLE', message, options);
  }
}

/** An action asks to be retried no sooner than `retryAfterMs`. */
export class RetryAfterError extends ReflexError {
  readonly retryAfterMs: number;
  constructor(message: string, retryAfterMs: number, options?: { cause?: unknown }) {
    super('RETRY_AFTER', message, options);
    this.retryAfterMs = retryAfterMs;
  }
}

export function toErrorJson(err: unknown): ErrorJson {
  if (err instanceof ReflexError) {
    const json: ErrorJson = { name: err.name, code: err.code, message: err.message };
    if (err.details !== undefined && err.details.length > 0) json.details = err.details;
    return json;
  }
  if (err instanceof Error) return { name: err.name, code: 'INTERNAL', message: err.message };
  return { name: 'Error', code: 'INTERNAL', message: String(err) };
}
