/**
 * The client commands start quickly because they load only the CLI, the API client, the config and
 * the model: not the bus, the store, their drivers, the rule compiler or the pack loader (those come
 * with `start`, `pack test`, and the commands that compile rules, when they run). The real bin, in a
 * child process, reports every module it loads.
 */
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const BIN = fileURLToPath(new URL('../bin/reflex.js', import.meta.url));
const REPORT_LOADS = `data:text/javascript,${encodeURIComponent(
  "import { registerHooks } from 'node:module'; registerHooks({ load(url, context, next) { process.stderr.write('loaded ' + url + '\\n'); return next(url, context); } });",
)}`;
const HEAVY = /\/packages\/(runtime|bus|store|packs|rules)\/|\/node_modules\/(mongodb|@nats-io|liquidjs|pino|fastify)\//;

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function loadedBy(args: string[], env: Record<string, string>): Promise<{ code: number | null; loaded: string[]; stderr: string }> {
  const child = spawn(process.execPath, ['--import', REPORT_LOADS, BIN, ...args], {
    env: { PATH: process.env['PATH'] ?? '', NODE_DISABLE_COMPILE_CACHE: '1', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  const loaded = stderr
    .split('\n')
    .filter((line) => line.startsWith('loaded '))
    .map((line) => line.slice('loaded '.length));
  return { code, loaded, stderr };
}

describe('reflex client start-up', () => {
  it('--help loads no server-side module', async () => {
    const { code, loaded } = await loadedBy(['--help'], {});
    expect(code).toBe(0);
    expect(loaded.some((url) => url.includes('/packages/cli/src/index.ts'))).toBe(true);
    expect(loaded.filter((url) => HEAVY.test(url))).toEqual([]);
  });

  it('an API command loads none either, and fails fast without a server', async () => {
    const { code, loaded, stderr } = await loadedBy(['whoami'], { REFLEX_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(code).toBe(1);
    expect(stderr).toContain('cannot reach the Reflex API');
    expect(loaded.filter((url) => HEAVY.test(url))).toEqual([]);
  });
});
