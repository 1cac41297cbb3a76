/**
 * What every benchmark reports: the machine, the versions, its parameters and figures, printed
 * as a table and written to test/bench/results/<name>.json.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { natsServerBinary } from '../../support/nats-server.ts';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const RESULTS_DIR = join(ROOT, 'test/bench/results');

/** `--quick` (CI smoke: small sizes, short runs) or the full run. */
export const QUICK = process.argv.includes('--quick') || process.env['BENCH_QUICK'] === '1';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  /** 1-minute load average when the benchmark started and ended: other work on the machine skews figures. */
  loadAverage: { start: number; end: number };
}

const LOAD_AT_START = loadavg()[0] ?? 0;

export function machine(): Machine {
  const list = cpus();
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    os: `${process.platform} ${release()}`,
    loadAverage: { start: Math.round(LOAD_AT_START * 100) / 100, end: Math.round((loadavg()[0] ?? 0) * 100) / 100 },
  };
}

function packageVersion(name: string): string | undefined {
  try {
    const file = join(ROOT, 'node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(file, 'utf8')) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

let natsVersion: string | undefined;

export function natsServerVersion(): string {
  if (natsVersion !== undefined) return natsVersion;
  try {
    natsVersion = execFileSync(natsServerBinary(), ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    natsVersion = 'not found';
  }
  return natsVersion;
}

function gitCommit(): string | undefined {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head}+dirty` : head;
  } catch {
    return undefined;
  }
}

export function versions(): Record<string, string | undefined> {
  return {
    node: process.version,
    natsServer: natsServerVersion(),
    reflex: gitCommit(),
    fastify: packageVersion('fastify'),
    autocannon: packageVersion('autocannon'),
    'json-logic-js': packageVersion('json-logic-js'),
    'json-rules-engine': packageVersion('json-rules-engine'),
  };
}

export type Cell = string | number | undefined;

/** Formats a number for a table: integers with thousands separators, others with 2–3 digits. */
export function fmt(value: Cell, digits = 1): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  if (!Number.isFinite(value)) return String(value);
  if (Number.isInteger(value) || Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(Math.abs(value) < 10 ? Math.max(digits, 2) : digits);
}

/** Prints rows as an aligned table under a title. */
export function printTable(title: string, header: string[], rows: Cell[][]): void {
  const cells = [header, ...rows.map((row) => row.map((c) => fmt(c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((row) => (row[i] ?? '').length)));
  const line = (row: string[]) => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${title}\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const row of cells.slice(1)) process.stdout.write(`${line(row)}\n`);
}

export interface Target {
  what: string;
  target: string;
  value: number | string | undefined;
  met: boolean | undefined;
}

export interface BenchResult {
  benchmark: string;
  mode: 'quick' | 'full';
  startedAt: string;
  durationSeconds: number;
  machine: Machine;
  versions: Record<string, string | undefined>;
  parameters: Record<string, unknown>;
  figures: unknown;
  ratios?: Record<string, number | undefined>;
  targets?: Target[];
  notes?: string[];
}

export function printTargets(targets: Target[]): void {
  printTable(
    'targets',
    ['what', 'target', 'measured', 'met'],
    targets.map((t) => [t.what, t.target, t.value, t.met === undefined ? 'n/a' : t.met ? 'yes' : 'NO']),
  );
}

/** Writes the result JSON; returns its path. */
export function writeResult(result: Omit<BenchResult, 'machine' | 'versions' | 'mode' | 'durationSeconds'> & { durationSeconds?: number }): string {
  const full: BenchResult = {
    ...result,
    mode: QUICK ? 'quick' : 'full',
    durationSeconds: result.durationSeconds ?? Math.round((Date.now() - Date.parse(result.startedAt)) / 100) / 10,
    machine: machine(),
    versions: versions(),
  };
  const file = join(RESULTS_DIR, `${result.benchmark}${QUICK ? '.quick' : ''}.json`);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(full, null, 2)}\n`);
  process.stdout.write(`\nwrote ${file.slice(ROOT.length)}\n`);
  return file;
}

/** Runs a benchmark's main; a crash prints the error and exits non-zero. */
export function main(run: () => Promise<void>): void {
  run().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exit(1);
    },
  );
}
