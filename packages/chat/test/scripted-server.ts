/**
 * A local HTTP server that records every request and can be scripted to misbehave the way real
 * vendors do: answer 429 with Retry-After, fail with 5xx, answer slowly, or hang. Each vendor
 * server in `servers.ts` is one of these with a protocol handler that answers like the vendor.
 */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  path: string;
  url: URL;
  headers: IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  json: unknown;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  /** A string is sent as is (text/plain unless headers say otherwise); anything else as JSON. */
  body?: unknown;
}

/**
 * What the next request gets instead of (or before) the protocol's own answer:
 * - `{ status, headers?, body? }`: this answer;
 * - `{ delayMs }`: the protocol's answer, `delayMs` late (a slow vendor);
 * - `{ delayMs, status, … }`: this answer, late;
 * - `{ hang: true }`: no answer until the server closes;
 * - `{ reset: true }`: the connection is dropped without an answer.
 */
export type ScriptStep =
  | (Partial<Answer> & { delayMs?: number; hang?: false; reset?: false })
  | { hang: true }
  | { reset: true };

export type ProtocolHandler = (request: RecordedRequest) => Answer;

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>` */
  readonly origin: string;
  /** Every request received, in order, whether or not it was accepted. */
  readonly requests: RecordedRequest[];
  /** The next requests get these steps, one each, in order; then the protocol answers again. */
  script(...steps: ScriptStep[]): void;
  /** Every request gets this step until called with undefined (a vendor that is down). */
  always(step: ScriptStep | undefined): void;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

function send(res: ServerResponse, answer: Answer): void {
  const headers: Record<string, string> = { ...answer.headers };
  let payload = '';
  if (answer.body !== undefined) {
    if (typeof answer.body === 'string') {
      payload = answer.body;
      headers['content-type'] ??= 'text/plain; charset=utf-8';
    } else {
      payload = JSON.stringify(answer.body);
      headers['content-type'] ??= 'application/json; charset=utf-8';
    }
  }
  res.writeHead(answer.status, headers);
  res.end(payload);
}

export async function startScriptedServer(handler: ProtocolHandler): Promise<ScriptedServer> {
  const requests: RecordedRequest[] = [];
  const queue: ScriptStep[] = [];
  let standing: ScriptStep | undefined;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = JSON.parse(body) as unknown;
      } catch {
        json = undefined;
      }
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        url: new URL(req.url ?? '/', 'http://localhost'),
        headers: req.headers,
        body,
        json,
      };
      requests.push(recorded);
      const step = queue.shift() ?? standing;
      if (step === undefined) return send(res, handler(recorded));
      if ('hang' in step && step.hang === true) return; // answered never; closed with the server
      if ('reset' in step && step.reset === true) {
        req.socket.destroy();
        return;
      }
      const scripted = step as Partial<Answer> & { delayMs?: number };
      const answer = (): void => {
        if (res.destroyed) return;
        send(res, scripted.status === undefined ? handler(recorded) : { status: scripted.status, headers: scripted.headers ?? {}, body: scripted.body });
      };
      if (scripted.delayMs === undefined || scripted.delayMs <= 0) return answer();
      const timer = setTimeout(() => {
        timers.delete(timer);
        answer();
      }, scripted.delayMs);
      timers.add(timer);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  let closed: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closed ??= new Promise<void>((resolve) => {
      for (const timer of timers) clearTimeout(timer);
      server.close(() => resolve());
      for (const socket of sockets) socket.destroy();
    });
    return closed;
  };
  return {
    origin: `http://127.0.0.1:${port}`,
    requests,
    script: (...steps) => void queue.push(...steps),
    always: (step) => {
      standing = step;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
