/**
 * `http-request` (`core.http`): one HTTP request with the platform's fetch. The response body
 * is kept up to the output cap; a status not expected fails the execution with the response as
 * its result, retriable for 408/429/5xx (with Retry-After honoured), not for other 4xx.
 *
 * Not offered: turning TLS verification off (Node's fetch takes no per-request TLS options
 * without a custom undici dispatcher), client certificates, proxies.
 */
import { type ExecutionRequest, type JsonValue } from '@reflex/model';
import { ActionFailedError, invalidParameters, isTimeoutReason, stoppedError } from './errors.ts';
import { utf8Boundary } from './output.ts';
import { checkParameters, effectiveTimeoutMs } from './params.ts';
import { formatMs } from './process.ts';
import { DEFAULT_OUTPUT_BYTES, type RunContext, type Runner } from './runner.ts';

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;

export interface HttpRunnerOptions {
  /** `user-agent` sent unless the action sets one. Default `reflex`. */
  userAgent?: string;
}

export interface HttpResult {
  [key: string]: JsonValue;
  status: number;
  statusText: string;
  /** The URL that answered (after redirects), without its query string or credentials. */
  url: string;
  redirected: boolean;
  /** Lower-cased names. */
  headers: Record<string, string>;
  /** Parsed JSON when the response says it is JSON (and is complete), otherwise text. */
  body: JsonValue;
  bodyTruncated: boolean;
  elapsedMs: number;
}

type Scalar = string | number | boolean;

interface HttpParams {
  url: string;
  method: (typeof HTTP_METHODS)[number];
  headers?: Record<string, Scalar>;
  query?: Record<string, Scalar | Scalar[]>;
  body?: JsonValue;
  raw_body?: string;
  timeout?: number;
  expected_status?: number[];
  follow_redirects: boolean;
}

const scalar = { type: ['string', 'number', 'boolean'] } as const;

const httpSchema = {
  $id: 'reflex:runner:http-request',
  type: 'object',
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1 },
    method: { enum: HTTP_METHODS, default: 'GET' },
    headers: { type: 'object', additionalProperties: scalar },
    query: { type: 'object', additionalProperties: { anyOf: [scalar, { type: 'array', items: scalar }] } },
    body: {},
    raw_body: { type: 'string' },
    timeout: { type: 'number', exclusiveMinimum: 0 },
    expected_status: { type: 'array', items: { type: 'integer', minimum: 100, maximum: 599 } },
    follow_redirects: { type: 'boolean', default: true },
  },
} as const;

export function createHttpRunner(options: HttpRunnerOptions = {}): Runner {
  const name = 'http-request';
  return {
    name,
    run: async (request, ctx) => {
      const params = checkParameters<HttpParams>(httpSchema, request.parameters, name);
      return runHttp(request, ctx, params, options);
    },
  };
}

async function runHttp(request: ExecutionRequest, ctx: RunContext, params: HttpParams, options: HttpRunnerOptions): Promise<HttpResult> {
  const url = parseUrl(params);
  const shown = `${params.method} ${safeUrl(url)}`;
  const timeoutMs = effectiveTimeoutMs(params.timeout, ctx.timeoutMs);
  const timeoutSignal = timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs);
  const signal = timeoutSignal === undefined ? ctx.signal : AbortSignal.any([ctx.signal, timeoutSignal]);
  const req = buildRequest(url, params, options, signal);

  const stopped = (cause: unknown): Error => {
    const kind = timeoutSignal?.aborted === true || isTimeoutReason(ctx.signal.reason) ? 'timeout' : 'canceled';
    const why = kind === 'timeout' ? `timed out${timeoutMs === undefined ? '' : ` after ${formatMs(timeoutMs)}`}` : 'was canceled';
    return stoppedError(kind, `${shown} ${why}`, undefined, cause);
  };
  if (signal.aborted) throw stopped(signal.reason);

  const started = performance.now();
  let response: Response;
  try {
    response = await fetch(req);
  } catch (err) {
    if (signal.aborted) throw stopped(err);
    const cause = (err as Error).cause;
    const detail = cause instanceof Error ? cause.message : (err as Error).message;
    ctx.logger?.debug({ err, url: safeUrl(url) }, 'http request failed');
    throw new ActionFailedError(`${shown} failed: ${detail}`, { code: 'HTTP_UNREACHABLE', retriable: true, cause: err });
  }

  let raw: { bytes: Buffer; truncated: boolean };
  try {
    raw = await readCapped(response, ctx.limits?.outputBytes ?? DEFAULT_OUTPUT_BYTES);
  } catch (err) {
    if (signal.aborted) throw stopped(err);
    throw new ActionFailedError(`${shown}: reading the response failed: ${(err as Error).message}`, { code: 'HTTP_UNREACHABLE', retriable: true, cause: err });
  }
  const headers: Record<string, string> = {};
  for (const [k, v] of response.headers) headers[k] = v;
  const result: HttpResult = {
    status: response.status,
    statusText: response.statusText,
    url: response.url === '' ? safeUrl(url) : safeUrl(new URL(response.url)),
    redirected: response.redirected,
    headers,
    body: parseBody(raw.bytes, raw.truncated, headers['content-type']),
    bodyTruncated: raw.truncated,
    elapsedMs: Math.round(performance.now() - started),
  };

  const expected = params.expected_status;
  const ok = expected === undefined ? result.status >= 200 && result.status < 300 : expected.includes(result.status);
  if (!ok) {
    const retriable = result.status >= 500 || result.status === 429 || result.status === 408;
    const retryAfterMs = parseRetryAfter(headers['retry-after']);
    throw new ActionFailedError(
      `${shown} answered ${result.status}${result.statusText === '' ? '' : ` ${result.statusText}`} (expected ${expected === undefined ? '2xx' : expected.join(', ')})`,
      { code: 'HTTP_STATUS', result, retriable, ...(retriable && retryAfterMs !== undefined ? { retryAfterMs } : {}) },
    );
  }
  return result;
}

function parseUrl(params: HttpParams): URL {
  let url: URL;
  try {
    url = new URL(params.url);
  } catch (err) {
    throw invalidParameters(`parameters.url is not a URL: '${params.url}'`, err);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidParameters(`parameters.url must be http or https, not ${url.protocol}`);
  if (url.username !== '' || url.password !== '') throw invalidParameters('parameters.url must not hold credentials; send them in parameters.headers (authorization)');
  for (const [k, v] of Object.entries(params.query ?? {})) {
    for (const item of Array.isArray(v) ? v : [v]) url.searchParams.append(k, String(item));
  }
  return url;
}

function buildRequest(url: URL, params: HttpParams, options: HttpRunnerOptions, signal: AbortSignal): Request {
  const headers = new Headers();
  try {
    for (const [k, v] of Object.entries(params.headers ?? {})) headers.set(k, String(v));
  } catch (err) {
    throw invalidParameters(`parameters.headers: ${(err as Error).message}`, err);
  }
  if (!headers.has('user-agent')) headers.set('user-agent', options.userAgent ?? 'reflex');
  const hasBody = params.body !== undefined && params.body !== null;
  if (hasBody && params.raw_body !== undefined) throw invalidParameters('give parameters.body (JSON) or parameters.raw_body (text), not both');
  let body: string | undefined;
  if (hasBody) {
    body = JSON.stringify(params.body);
    if (!headers.has('content-type')) headers.set('content-type', 'application/json');
  } else if (params.raw_body !== undefined) {
    body = params.raw_body;
  }
  if (body !== undefined && (params.method === 'GET' || params.method === 'HEAD')) {
    throw invalidParameters(`a ${params.method} request cannot have a body`);
  }
  try {
    return new Request(url, {
      method: params.method,
      headers,
      redirect: params.follow_redirects ? 'follow' : 'manual',
      signal,
      ...(body === undefined ? {} : { body }),
    });
  } catch (err) {
    throw invalidParameters(`the request cannot be made: ${(err as Error).message}`, err);
  }
}

async function readCapped(response: Response, limit: number): Promise<{ bytes: Buffer; truncated: boolean }> {
  if (response.body === null) return { bytes: Buffer.alloc(0), truncated: false };
  const reader = response.body.getReader();
  const chunks: Buffer[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { bytes: Buffer.concat(chunks), truncated: false };
    const chunk = Buffer.from(value.buffer, value.byteOffset, value.byteLength);
    if (chunk.length > limit - size) {
      chunks.push(chunk.subarray(0, utf8Boundary(chunk, limit - size)));
      await reader.cancel().catch(() => undefined); // the rest is not wanted; a failing cancel changes nothing
      return { bytes: Buffer.concat(chunks), truncated: true };
    }
    chunks.push(chunk);
    size += chunk.length;
  }
}

function parseBody(bytes: Buffer, truncated: boolean, contentType: string | undefined): JsonValue {
  const text = bytes.toString('utf8');
  const json = contentType !== undefined && /^application\/(?:[\w.-]+\+)?json\b/i.test(contentType.trim());
  if (!json || truncated) return text;
  if (text.trim() === '') return null;
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text; // says JSON, is not: keep what came
  }
}

/** Retry-After as milliseconds from now: delta-seconds or an HTTP date. */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** A URL fit for messages and results: no query string (it may hold tokens), no credentials. */
function safeUrl(url: URL): string {
  const copy = new URL(url);
  copy.search = '';
  copy.hash = '';
  copy.username = '';
  copy.password = '';
  return copy.toString();
}
