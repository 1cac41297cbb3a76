import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NonRetriableError, type JsonObject } from '@reflex/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionCanceledError, ActionFailedError, ActionTimeoutError, resultOf, retryHintOf } from './errors.ts';
import { createHttpRunner, parseRetryAfter, type HttpResult } from './http.ts';
import { context, request } from './test-helpers.ts';

const runner = createHttpRunner();
let server: Server;
let base: string;
const open = new Set<ServerResponse>();

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const send = (status: number, body: string, headers: Record<string, string> = {}): void => {
    res.writeHead(status, headers).end(body);
  };
  switch (url.pathname) {
    case '/echo':
      void readBody(req).then((body) =>
        send(200, JSON.stringify({ method: req.method, path: url.pathname, query: url.search, headers: req.headers, body }), { 'content-type': 'application/json; charset=utf-8' }),
      );
      return;
    case '/text':
      send(200, 'plain words', { 'content-type': 'text/plain', 'X-Custom': 'Yes' });
      return;
    case '/problem':
      send(400, JSON.stringify({ title: 'bad thing' }), { 'content-type': 'application/problem+json' });
      return;
    case '/not-json':
      send(200, '{oops', { 'content-type': 'application/json' });
      return;
    case '/empty':
      send(204, '');
      return;
    case '/big':
      send(200, 'x'.repeat(10_000), { 'content-type': 'text/plain' });
      return;
    case '/big-json':
      send(200, JSON.stringify({ data: 'y'.repeat(10_000) }), { 'content-type': 'application/json' });
      return;
    case '/redirect':
      send(302, '', { location: '/echo?from=redirect' });
      return;
    case '/loop':
      send(302, '', { location: '/loop' });
      return;
    case '/status': {
      const code = Number(url.searchParams.get('code'));
      const headers: Record<string, string> = {};
      const retryAfter = url.searchParams.get('retry_after');
      if (retryAfter !== null) headers['retry-after'] = retryAfter;
      send(code, `status ${code}`, headers);
      return;
    }
    case '/slow':
      open.add(res); // answers never; the request must time out
      return;
    case '/slow-body':
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first part');
      open.add(res);
      return;
    default:
      send(404, 'no route');
  }
}

beforeAll(async () => {
  server = createServer(handle);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  for (const res of open) res.destroy();
  server.closeAllConnections();
  server.close();
});

const http = (parameters: JsonObject, ctx = context()) => runner.run(request('http-request', parameters), ctx) as Promise<HttpResult>;

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('http-request', () => {
  it('sends method, headers, query and a JSON body; parses a JSON answer', async () => {
    const result = await http({
      method: 'POST',
      url: `${base}/echo`,
      headers: { 'X-Token': 'abc', 'x-number': 7 },
      query: { q: 'a b&c', tag: ['x', 'y'], n: 1 },
      body: { hello: 'world', list: [1, 2] },
    });
    expect(result.status).toBe(200);
    expect(result.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(result.bodyTruncated).toBe(false);
    expect(result.redirected).toBe(false);
    expect(result.url).toBe(`${base}/echo`); // no query string in the result
    expect(result.elapsedMs).toBeGreaterThanOrEqual(0);
    const echoed = result.body as { method: string; query: string; headers: Record<string, string>; body: string };
    expect(echoed.method).toBe('POST');
    expect(echoed.query).toBe('?q=a+b%26c&tag=x&tag=y&n=1');
    expect(echoed.headers).toMatchObject({ 'x-token': 'abc', 'x-number': '7', 'content-type': 'application/json', 'user-agent': 'reflex' });
    expect(JSON.parse(echoed.body)).toEqual({ hello: 'world', list: [1, 2] });
  });

  it('sends a raw body with its own content type', async () => {
    const result = await http({ method: 'PUT', url: `${base}/echo`, headers: { 'content-type': 'text/csv', 'user-agent': 'mine' }, raw_body: 'a,b\n1,2' });
    expect(result.body).toMatchObject({ method: 'PUT', body: 'a,b\n1,2', headers: { 'content-type': 'text/csv', 'user-agent': 'mine' } });
  });

  it('returns text as text, lower-cases header names, and keeps malformed JSON as text', async () => {
    const text = await http({ url: `${base}/text` });
    expect(text).toMatchObject({ body: 'plain words', headers: { 'x-custom': 'Yes', 'content-type': 'text/plain' } });
    expect((await http({ url: `${base}/not-json` })).body).toBe('{oops');
    expect((await http({ url: `${base}/empty` })).body).toBe('');
  });

  it('caps the response body and flags it', async () => {
    const ctx = context({ limits: { outputBytes: 1000 } });
    const big = await http({ url: `${base}/big` }, ctx);
    expect(big).toMatchObject({ body: 'x'.repeat(1000), bodyTruncated: true });
    const bigJson = await http({ url: `${base}/big-json` }, ctx);
    expect(bigJson.bodyTruncated).toBe(true);
    expect(typeof bigJson.body).toBe('string'); // cut JSON cannot be parsed: kept as text
  });

  it('follows redirects, or not when asked', async () => {
    const followed = await http({ url: `${base}/redirect` });
    expect(followed).toMatchObject({ status: 200, redirected: true, url: `${base}/echo`, body: { query: '?from=redirect' } });

    const err = await failure(http({ url: `${base}/redirect`, follow_redirects: false }));
    expect(err).toBeInstanceOf(ActionFailedError);
    expect(resultOf(err)).toMatchObject({ status: 302, headers: { location: '/echo?from=redirect' } });
    expect(retryHintOf(err)).toEqual({ retriable: false });

    const manual = await http({ url: `${base}/redirect`, follow_redirects: false, expected_status: [301, 302] });
    expect(manual.status).toBe(302);

    const loop = await failure(http({ url: `${base}/loop` }));
    expect(loop).toMatchObject({ code: 'HTTP_UNREACHABLE' });
  });

  it('fails on an unexpected status with the response, retriable for 5xx/429/408 only', async () => {
    const notFound = await failure(http({ url: `${base}/status?code=404` }));
    expect(notFound).toBeInstanceOf(ActionFailedError);
    expect(notFound).toMatchObject({ code: 'HTTP_STATUS', retriable: false });
    expect(notFound.message).toBe(`GET ${base}/status answered 404 Not Found (expected 2xx)`);
    expect(resultOf(notFound)).toMatchObject({ status: 404, body: 'status 404' });

    const problem = await failure(http({ url: `${base}/problem` }));
    expect(resultOf(problem)).toMatchObject({ status: 400, body: { title: 'bad thing' } });

    const unavailable = await failure(http({ url: `${base}/status?code=503` }));
    expect(retryHintOf(unavailable)).toEqual({ retriable: true });

    const tooMany = await failure(http({ url: `${base}/status?code=429&retry_after=7` }));
    expect(retryHintOf(tooMany)).toEqual({ retriable: true, retryAfterMs: 7000 });

    const at = new Date(Date.now() + 60_000).toUTCString();
    const later = await failure(http({ url: `${base}/status?code=503&retry_after=${encodeURIComponent(at)}` }));
    expect(retryHintOf(later).retryAfterMs).toBeGreaterThan(50_000);

    expect((await http({ url: `${base}/status?code=404`, expected_status: [404] })).status).toBe(404);
    await expect(http({ url: `${base}/status?code=200`, expected_status: [201] })).rejects.toMatchObject({ code: 'HTTP_STATUS' });
  });

  it('times out a slow answer and a slow body', async () => {
    const started = Date.now();
    const err = await failure(http({ url: `${base}/slow`, timeout: 0.3 }));
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(err.message).toBe(`GET ${base}/slow timed out after 300ms`);
    expect(Date.now() - started).toBeLessThan(2000);

    await expect(http({ url: `${base}/slow-body` }, context({ timeoutMs: 300 }))).rejects.toBeInstanceOf(ActionTimeoutError);
  });

  it('stops on cancel', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('canceled by a user')), 100);
    await expect(http({ url: `${base}/slow` }, context({ signal: controller.signal }))).rejects.toBeInstanceOf(ActionCanceledError);
  });

  it('fails retriably when nothing answers', async () => {
    const closed = createServer();
    closed.listen(0, '127.0.0.1');
    await once(closed, 'listening');
    const port = (closed.address() as AddressInfo).port;
    closed.close();
    const err = await failure(http({ url: `http://127.0.0.1:${port}/` }));
    expect(err).toBeInstanceOf(ActionFailedError);
    expect(err).toMatchObject({ code: 'HTTP_UNREACHABLE', retriable: true });
    expect(err.message).toMatch(/ECONNREFUSED/);
  });

  it('refuses bad parameters as not retriable', async () => {
    const cases: Array<[JsonObject, RegExp]> = [
      [{}, /parameters\.url is required/],
      [{ url: 'not a url' }, /not a URL/],
      [{ url: 'ftp://example.com/x' }, /http or https/],
      [{ url: 'http://user:pw@example.com/' }, /credentials/],
      [{ url: `${base}/echo`, method: 'FETCH' }, /parameters\.method/],
      [{ url: `${base}/echo`, body: { a: 1 } }, /GET request cannot have a body/],
      [{ url: `${base}/echo`, method: 'POST', body: 1, raw_body: 'x' }, /not both/],
      [{ url: `${base}/echo`, headers: { 'bad header': 'x' } }, /parameters\.headers/],
      [{ url: `${base}/echo`, expected_status: [99] }, /expected_status/],
    ];
    for (const [parameters, message] of cases) {
      const err = await failure(http(parameters));
      expect(err, JSON.stringify(parameters)).toBeInstanceOf(NonRetriableError);
      expect(err.message, JSON.stringify(parameters)).toMatch(message);
    }
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2030-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Tue, 01 Jan 2030 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 31 Dec 2029 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });
});
