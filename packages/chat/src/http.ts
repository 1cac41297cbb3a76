/**
 * One HTTP exchange with a vendor, and the mapping of its failures onto retry semantics:
 * 429 → RetryAfterError (Retry-After header, seconds or HTTP date), 408/5xx/network/timeout →
 * ChatUnavailableError, other 4xx → ChatRejectedError. Messages are redacted; the raw fetch error
 * is not kept as a cause because Node's parse errors repeat the URL, which is a credential.
 */
import { RetryAfterError } from '@reflex/model';
import { ChatRejectedError, ChatUnavailableError } from './adapter.ts';
import { maskUrl, type Redactor } from './secrets.ts';

export type FetchFn = typeof fetch;

export interface HttpContext {
  fetch: FetchFn;
  /** Milliseconds since the epoch (HTTP-date Retry-After). */
  now: () => number;
  userAgent: string;
}

export interface HttpRequest {
  vendor: string;
  method: 'POST' | 'PATCH';
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON unless it is already a string. */
  body: unknown;
  signal: AbortSignal;
  redact: Redactor;
}

export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
}

/** Largest vendor body we keep in memory or quote. */
const MAX_BODY = 64 * 1024;
const MAX_REASON = 300;

export async function sendHttp(ctx: HttpContext, req: HttpRequest): Promise<HttpResponse> {
  const body = typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  let response: Response;
  try {
    response = await ctx.fetch(req.url, {
      method: req.method,
      headers: { 'content-type': 'application/json; charset=utf-8', 'user-agent': ctx.userAgent, ...req.headers },
      body,
      signal: req.signal,
    });
  } catch (err) {
    throw transportError(req, err);
  }
  let text: string;
  try {
    text = await response.text();
  } catch (err) {
    throw transportError(req, err);
  }
  return { status: response.status, headers: response.headers, text: text.length > MAX_BODY ? text.slice(0, MAX_BODY) : text };
}

function transportError(req: HttpRequest, err: unknown): ChatUnavailableError {
  const where = maskUrl(req.url);
  if (req.signal.aborted) return new ChatUnavailableError(`${req.vendor}: no answer from ${where} before the attempt timed out or was aborted`);
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  const why =
    typeof cause?.code === 'string' ? cause.code : typeof cause?.message === 'string' ? cause.message : err instanceof Error ? err.message : String(err);
  return new ChatUnavailableError(req.redact(`${req.vendor}: request to ${where} failed: ${why}`));
}

/**
 * Parses Retry-After: delta-seconds (decimals tolerated) or an HTTP date. Undefined when absent
 * or unreadable; never negative.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  if (value === null || value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** Wait used when a vendor says 429 but not for how long. */
export const DEFAULT_RETRY_AFTER_MS = 1000;

/** A short, redacted quote of what the vendor said. */
export function quote(text: string, redact: Redactor): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const cut = flat.length > MAX_REASON ? `${flat.slice(0, MAX_REASON)}…` : flat;
  return redact(cut);
}

/**
 * The error for a non-2xx answer. `reason` is the vendor's own error code or message, already
 * extracted from the body by the adapter; `retryAfterMs` overrides the header (Discord's body).
 */
export function failureFor(
  ctx: HttpContext,
  req: Pick<HttpRequest, 'vendor' | 'redact'>,
  response: HttpResponse,
  reason: string | undefined,
  retryAfterMs?: number,
): Error {
  const said = reason === undefined || reason === '' ? '' : `: ${quote(reason, req.redact)}`;
  const { status } = response;
  if (status === 429) {
    const wait = retryAfterMs ?? parseRetryAfter(response.headers.get('retry-after'), ctx.now()) ?? DEFAULT_RETRY_AFTER_MS;
    return new RetryAfterError(`${req.vendor} is rate limiting (429${said}); retry after ${wait} ms`, wait);
  }
  if (status === 408 || status >= 500) {
    return new ChatUnavailableError(`${req.vendor} answered ${status}${said}`, { status });
  }
  const code = reason !== undefined && /^[a-z_0-9]{2,64}$/i.test(reason) ? reason : undefined;
  const options: { status: number; reason?: string } = { status };
  if (code !== undefined) options.reason = code;
  return new ChatRejectedError(`${req.vendor} rejected the message (${status}${said})`, options);
}

/** JSON of a body, or undefined when it is not JSON. */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** `obj[key]` when it is a string. */
export function stringField(obj: unknown, key: string): string | undefined {
  if (obj === null || typeof obj !== 'object') return undefined;
  const value = (obj as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
}
