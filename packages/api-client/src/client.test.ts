/**
 * The client against a real local HTTP server speaking the API's protocol: error bodies, a server
 * that is not there, and an output stream that drops and is resumed with Last-Event-ID.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { ReflexClient, type OutputEvent } from './client.ts';
import { ApiError } from './errors.ts';

let server: Server | undefined;

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function failure(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('expected an ApiError');
}

describe('ReflexClient', () => {
  it('sends the key and JSON, and turns error bodies into ApiErrors with their details', async () => {
    const seen: Array<{ method?: string; url?: string; auth?: string; body: string }> = [];
    const url = await serve((req, res) => {
      let body = '';
      req.on('data', (d: Buffer) => (body += d.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, auth: req.headers.authorization, body });
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { code: 'VALIDATION_FAILED', message: 'bad', details: [{ field: 'body.value', message: 'is required' }] } }));
      });
    });
    const client = new ReflexClient({ url: `${url}/`, apiKey: 'rfx_k' });
    const err = await failure(client.keys.set('pack:ops', 'a/b', { value: 1, secret: true }));
    expect(err).toMatchObject({ status: 400, code: 'VALIDATION_FAILED', message: 'bad', details: [{ field: 'body.value', message: 'is required' }] });
    expect(seen).toEqual([{ method: 'PUT', url: '/v1/keys/pack%3Aops/a%2Fb', auth: 'Bearer rfx_k', body: '{"value":1,"secret":true}' }]);
  });

  it('says when nothing answers, and when the answer is not the API’s', async () => {
    const url = await serve((_req, res) => {
      res.writeHead(502);
      res.end('bad gateway');
    });
    expect(await failure(new ReflexClient({ url }).rules.list())).toMatchObject({ status: 502, code: 'HTTP_502', message: 'the API answered 502: bad gateway' });
    const gone = await failure(new ReflexClient({ url: 'http://127.0.0.1:1' }).rules.list());
    expect(gone.code).toBe('UNREACHABLE');
    expect(gone.message).toContain('cannot reach the Reflex API at http://127.0.0.1:1');
  });

  it('follows output and resumes a dropped stream where it stopped', async () => {
    const lastIds: Array<string | undefined> = [];
    const url = await serve((req, res) => {
      lastIds.push(req.headers['last-event-id'] as string | undefined);
      expect(req.headers.accept).toBe('text/event-stream');
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (lastIds.length === 1) {
        res.write('id: 1\nevent: stdout\ndata: {"text":"one","at":"t1"}\n\n: ping\n\nid: 2\nevent: stderr\ndata: {"text":"two","at":"t2"}\n\n');
        setTimeout(() => res.destroy(), 50); // the connection drops mid-execution
        return;
      }
      // The server replays from the id it was given (and a line the client already has is skipped).
      res.end('id: 2\nevent: stderr\ndata: {"text":"two","at":"t2"}\n\nid: 3\nevent: stdout\ndata: {"text":"three","at":"t3"}\n\nevent: end\ndata: {"status":"succeeded"}\n\n');
    });
    const got: OutputEvent[] = [];
    for await (const item of new ReflexClient({ url }).executions.follow('x1')) got.push(item);
    expect(got).toEqual([
      { kind: 'output', seq: 1, stream: 'stdout', text: 'one', at: 't1' },
      { kind: 'output', seq: 2, stream: 'stderr', text: 'two', at: 't2' },
      { kind: 'output', seq: 3, stream: 'stdout', text: 'three', at: 't3' },
      { kind: 'end', status: 'succeeded' },
    ]);
    expect(lastIds).toEqual([undefined, '2']);
  });
});
