/**
 * `npm run bench` (full, < 10 min on 2 cores) and `npm run bench:quick` (CI smoke: small sizes,
 * short runs, no thresholds). Runs each benchmark in a process of its own, one after the other;
 * each prints its table and writes test/bench/results/<name>[.quick].json. Ends with the targets
 * of every benchmark; exits non-zero when a benchmark crashed (a missed target is not a crash).
 *
 *   node test/bench/run.ts [--quick] [--only matching,writes]
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { fmt, printTable, QUICK, RESULTS_DIR, ROOT, type BenchResult } from './lib/report.ts';

const ALL = ['matching', 'writes', 'ingest', 'latency', 'pipeline', 'memory'];
const onlyArg = process.argv.find((a) => a.startsWith('--only'));
const only = onlyArg === undefined ? undefined : (onlyArg.includes('=') ? onlyArg.split('=')[1]! : process.argv[process.argv.indexOf(onlyArg) + 1]!).split(',');
const unknown = only?.filter((name) => !ALL.includes(name)) ?? [];
if (unknown.length > 0) {
  process.stderr.write(`unknown benchmark(s): ${unknown.join(', ')}; known: ${ALL.join(', ')}\n`);
  process.exit(2);
}
const selected = ALL.filter((name) => only === undefined || only.includes(name));

async function runOne(name: string): Promise<{ name: string; code: number | null; seconds: number }> {
  const started = performance.now();
  const load = loadavg()[0] ?? 0;
  process.stdout.write(`\n=== ${name}${QUICK ? ' (quick)' : ''} — load average ${load.toFixed(2)}${load > 1 ? ' (the machine is busy: figures will be low)' : ''} ===\n`);
  // node:sqlite still announces itself as experimental on Node 24; that line is noise here.
  const args = ['--disable-warning=ExperimentalWarning', join(ROOT, 'test/bench', `${name}.bench.ts`), ...(QUICK ? ['--quick'] : [])];
  const child = spawn(process.execPath, args, { stdio: 'inherit' });
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c, signal) => resolve(signal === null ? c : 1)));
  return { name, code, seconds: Math.round((performance.now() - started) / 100) / 10 };
}

const outcomes = [];
const t0 = performance.now();
for (const name of selected) outcomes.push(await runOne(name));

const rows = [];
for (const o of outcomes) {
  const file = join(RESULTS_DIR, `${o.name}${QUICK ? '.quick' : ''}.json`);
  if (o.code !== 0 || !existsSync(file)) {
    rows.push([o.name, 'CRASHED', `exit ${o.code}`, '', '']);
    continue;
  }
  const result = JSON.parse(readFileSync(file, 'utf8')) as BenchResult;
  for (const t of result.targets ?? []) {
    rows.push([o.name, t.what, t.target, typeof t.value === 'number' ? fmt(Math.round(t.value * 10) / 10) : (t.value ?? '—'), t.met === undefined ? 'n/a' : t.met ? 'yes' : 'NO']);
  }
}
printTable(`summary (${QUICK ? 'quick: smoke run, targets not judged on these sizes' : 'full'}; ${Math.round((performance.now() - t0) / 1000)} s)`, ['benchmark', 'what', 'target', 'measured', 'met'], rows);
const crashed = outcomes.filter((o) => o.code !== 0);
if (crashed.length > 0) {
  process.stderr.write(`\n${crashed.length} benchmark(s) crashed: ${crashed.map((o) => o.name).join(', ')}\n`);
  process.exit(1);
}
