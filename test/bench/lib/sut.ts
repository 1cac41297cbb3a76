/**
 * Processes under test: `reflex start [services]` as a child process (embedded, or on NATS
 * JetStream), the bare Fastify baseline server, and their RSS / CPU read from /proc.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, startNatsServer, type NatsServerHandle } from '../../support/nats-server.ts';
import { ROOT } from './report.ts';

const REFLEX_BIN = join(ROOT, 'services/launcher/bin/reflex.js');
const BARE_SERVER = fileURLToPath(new URL('../fixtures/bare-server.ts', import.meta.url));

export type Transport = 'embedded' | 'nats';

export interface Proc {
  child: ChildProcess;
  pid: number;
  url: string;
  /** Milliseconds from spawn to the ready line (`Reflex ready` / `listening`). */
  readyMs: number;
  /** The last lines it printed. */
  tail(): string;
  stop(): Promise<void>;
}

/** Children still running: killed when this process exits, even on a crash (no orphan servers). */
const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

function spawnProcess(args: string[], env: Record<string, string>, readyLine: string, timeoutMs = 30_000): Promise<Proc & { readyLineText: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let pending = '';
  let readyText: string | undefined;
  const onData = (d: Buffer): void => {
    const text = d.toString();
    tail = (tail + text).slice(-8000);
    if (readyText === undefined) {
      pending += text;
      const line = pending.split('\n').find((l) => l.includes(readyLine));
      if (line !== undefined) readyText = line;
      pending = pending.slice(-2000);
    }
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  live.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      live.delete(child);
      resolve();
    }),
  );
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const poll = setInterval(() => {
      if (readyText !== undefined) {
        clearInterval(poll);
        resolve({ child, pid: child.pid!, url: '', readyMs: performance.now() - started, tail: () => tail, stop, readyLineText: readyText });
      } else if (child.exitCode !== null || performance.now() - started > timeoutMs) {
        clearInterval(poll);
        void stop();
        reject(new Error(`${args.join(' ')} did not get ready (exit ${child.exitCode}):\n${tail}`));
      }
    }, 2);
  });
}

export interface ReflexOptions {
  transport: Transport;
  /** Services to start; all of them when absent. */
  services?: string[];
  /** Running NATS server to use (else one is started when transport is nats). */
  nats?: NatsServerHandle;
  logLevel?: string;
}

export interface ReflexProc extends Proc {
  dataDir: string;
  natsUrl?: string;
  busPrefix: string;
}

/** Starts `reflex start …` on a free port with a fresh data dir; NATS_URL when asked for. */
export async function startReflexProcess(options: ReflexOptions): Promise<ReflexProc> {
  const dataDir = mkdtempSync(join(tmpdir(), 'reflex-bench-'));
  const port = await freePort();
  let ownNats: NatsServerHandle | undefined;
  let natsUrl: string | undefined;
  if (options.transport === 'nats') {
    natsUrl = process.env['NATS_URL'] || options.nats?.url;
    if (natsUrl === undefined) {
      ownNats = await startNatsServer();
      live.add(ownNats.process);
      natsUrl = ownNats.url;
    }
  }
  const busPrefix = `bench${Math.random().toString(36).slice(2, 8)}`;
  const env: Record<string, string> = {
    REFLEX_PORT: String(port),
    REFLEX_HOST: '127.0.0.1',
    REFLEX_DATA_DIR: dataDir,
    REFLEX_PACKS_PATH: join(ROOT, 'packs'),
    REFLEX_LOG_LEVEL: options.logLevel ?? 'info',
    REFLEX_BUS_PREFIX: busPrefix,
    NATS_URL: natsUrl ?? '',
    // What is measured is the engine, not the front door's policy: no API keys to mint (webhooks
    // need none anyway) and no rate limits (the defaults would cap a webhook url at 100/s).
    REFLEX_AUTH: 'off',
    REFLEX_RATE_LIMIT_PER_MINUTE: '0',
    REFLEX_WEBHOOK_RATE_LIMIT_PER_MINUTE: '0',
  };
  // BENCH_CPU_PROF=<dir>: the process under test writes a V8 CPU profile there when it stops.
  const profileDir = process.env['BENCH_CPU_PROF'];
  if (profileDir !== undefined && profileDir !== '') env['NODE_OPTIONS'] = `${process.env['NODE_OPTIONS'] ?? ''} --cpu-prof --cpu-prof-dir=${profileDir}`.trim();
  let proc: Proc;
  try {
    proc = await spawnProcess([REFLEX_BIN, 'start', ...(options.services ?? [])], env, 'Reflex ready');
  } catch (err) {
    await ownNats?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    ...proc,
    url: `http://127.0.0.1:${port}`,
    dataDir,
    busPrefix,
    ...(natsUrl === undefined ? {} : { natsUrl }),
    stop: async () => {
      await proc.stop();
      await ownNats?.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The bare Fastify baseline (fixtures/bare-server.ts) on a free port. */
export async function startBareServer(): Promise<Proc> {
  const port = await freePort();
  const proc = await spawnProcess([BARE_SERVER, String(port)], {}, 'listening');
  return { ...proc, url: `http://127.0.0.1:${port}` };
}

/** Resident set size of a process, in MiB (from /proc). */
export function rssMiB(pid: number): number | undefined {
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Math.round((Number(match[1]) / 1024) * 10) / 10;
  } catch {
    return undefined;
  }
}

/** CPU seconds (user + system) a process has used so far. */
export function cpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ = 100)
  } catch {
    return undefined;
  }
}

/** Samples RSS every `everyMs` until stopped; returns the peak and the last value. */
export function sampleRss(pid: number, everyMs = 250): { stop(): { peakMiB?: number; lastMiB?: number } } {
  let peak: number | undefined;
  let last: number | undefined;
  const timer = setInterval(() => {
    last = rssMiB(pid);
    if (last !== undefined && (peak === undefined || last > peak)) peak = last;
  }, everyMs);
  return {
    stop: () => {
      clearInterval(timer);
      return { ...(peak === undefined ? {} : { peakMiB: peak }), ...(last === undefined ? {} : { lastMiB: last }) };
    },
  };
}

/** JSON POST/GET against a process under test. */
export async function http<T = unknown>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(url, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
}

/** Creates the rule every pipeline benchmark uses: webhook `url` → core.noop (events are joined back by id). */
export async function createBenchRule(baseUrl: string, url: string): Promise<void> {
  const res = await http('POST', `${baseUrl}/v1/rules`, {
    pack: 'bench',
    name: url.replace(/[^a-z0-9_]/gi, '_'),
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url } },
    criteria: { and: [{ '==': [{ var: 'payload.body.kind' }, 'bench'] }, { '>': [{ var: 'payload.body.sentAt' }, 0] }] },
    action: { ref: 'core.noop' },
  });
  if (res.status !== 201 && res.status !== 200) throw new Error(`creating the bench rule failed: ${res.status} ${JSON.stringify(res.body)}`);
}
