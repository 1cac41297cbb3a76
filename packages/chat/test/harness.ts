/** Shared pieces of the chat package's tests. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createChatAdapters, type ChatAdapter, type ChatMessage, type SendOptions, type TargetConfig } from '../src/index.ts';

/** The built-in adapters with the console writing into `lines`. */
export function testAdapters(options: { now?: () => number } = {}): { adapter(kind: TargetConfig['adapter']): ChatAdapter; lines: string[] } {
  const lines: string[] = [];
  const adapters = createChatAdapters({ consoleSink: { write: (line: string) => lines.push(line) }, ...options });
  return {
    lines,
    adapter(kind) {
      const found = adapters.get(kind);
      if (found === undefined) throw new Error(`no ${kind} adapter`);
      return found;
    },
  };
}

export function send(extra: Partial<SendOptions> = {}): SendOptions {
  return { signal: AbortSignal.timeout(5000), ...extra };
}

export const alert: ChatMessage = {
  title: 'Disk almost full on db1',
  text: 'db1 disk at 97% <!channel> & rising',
  severity: 'critical',
  link: { url: 'https://grafana.example.com/d/disk?var-host=db1', label: 'Dashboard' },
  facts: [
    { key: 'host', value: 'db1' },
    { key: 'value', value: '97' },
  ],
  threadKey: 'disk:db1',
};

/** Resolves with the error `promise` rejects with; fails when it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** A loopback URL nothing listens on (connection refused). */
export async function refusedUrl(path = '/'): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}${path}`;
}
