/**
 * Load generators, each in a child process of its own (the benchmark process only orchestrates):
 * autocannon's CLI for closed-loop throughput, paced-load.ts for open-loop fixed rates.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PacedOptions, PacedResult } from './paced-load.ts';
import { ROOT } from './report.ts';

const PACED = fileURLToPath(new URL('./paced-load.ts', import.meta.url));
const AUTOCANNON = join(ROOT, 'node_modules/autocannon/autocannon.js');

async function runChild(args: string[], what: string): Promise<string> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  if (code !== 0) throw new Error(`${what} exited with ${code}: ${err}`);
  return out;
}

export async function paced(options: PacedOptions): Promise<PacedResult> {
  const out = await runChild([PACED, JSON.stringify(options)], 'paced load generator');
  return JSON.parse(out.trim().split('\n').at(-1)!) as PacedResult;
}

export interface ThroughputOptions {
  url: string;
  body: unknown;
  connections: number;
  pipelining: number;
  durationSec: number;
}

export interface ThroughputResult {
  requestsPerSec: number;
  total2xx: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number };
}

interface AutocannonJson {
  requests: { average: number; mean: number; total: number };
  latency: { p50: number; p90: number; p99: number; max: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

/** Closed-loop throughput with autocannon's CLI (`--json`). */
export async function throughput(options: ThroughputOptions): Promise<ThroughputResult> {
  const out = await runChild(
    [
      AUTOCANNON,
      '--json',
      '-c', String(options.connections),
      '-p', String(options.pipelining),
      '-d', String(options.durationSec),
      '-m', 'POST',
      '-H', 'content-type=application/json',
      '-b', JSON.stringify(options.body),
      options.url,
    ],
    'autocannon',
  );
  const json = JSON.parse(out.trim().split('\n').at(-1)!) as AutocannonJson;
  return {
    requestsPerSec: Math.round(json['2xx'] / json.duration),
    total2xx: json['2xx'],
    non2xx: json.non2xx,
    errors: json.errors,
    timeouts: json.timeouts,
    latencyMs: { p50: json.latency.p50, p90: json.latency.p90, p99: json.latency.p99, max: json.latency.max },
  };
}
