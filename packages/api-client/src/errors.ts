/** What a failed call says: the API's error body, or why the API could not be reached. */
import type { ErrorDetail } from '@reflex/model';

export class ApiError extends Error {
  /** HTTP status; 0 when there was no answer. */
  readonly status: number;
  /** The API's error code (`VALIDATION_FAILED`, `FORBIDDEN`, ...), or `UNREACHABLE` / `BAD_ANSWER`. */
  readonly code: string;
  readonly details: ErrorDetail[];

  constructor(status: number, code: string, message: string, details: ErrorDetail[] = [], options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.details = details;
  }

  toJSON(): { status: number; code: string; message: string; details: ErrorDetail[] } {
    return { status: this.status, code: this.code, message: this.message, details: this.details };
  }
}

function isErrorBody(value: unknown): value is { error: { code: string; message: string; details?: ErrorDetail[] } } {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string';
}

/** The ApiError of a non-2xx answer, from its `{ error: { code, message, details } }` body when it has one. */
export function errorOf(status: number, text: string): ApiError {
  try {
    const body: unknown = JSON.parse(text);
    if (isErrorBody(body)) return new ApiError(status, body.error.code, body.error.message, body.error.details ?? []);
  } catch {
    // not JSON: fall through to a generic message
  }
  return new ApiError(status, `HTTP_${status}`, `the API answered ${status}${text === '' ? '' : `: ${text.slice(0, 200)}`}`);
}
