/**
 * Benchmark 3 — the full pipeline: webhook → rule → core.noop execution stored as succeeded, in the
 * all-in-one process (`reflex start`), embedded and on NATS JetStream, at increasing rates.
 *
 * Full mode: a ladder of short probes (5 s) finds the rate where p99 crosses 100 ms or the
 * process falls behind; then the highest passing rate is sustained for 30 s (stepping down by
 * 20 % if it does not hold). Quick mode: short probes only. A step holds when every request was
 * accepted at the asked rate, every event's execution succeeded, and p99 webhook → succeeded
 * < 100 ms. Baseline in the same run: the bare in-memory pipeline (fixtures/bare-server.ts).
 */
import { runStep, type StepResult } from './lib/pipeline-step.ts';
import { main, printTable, printTargets, QUICK, writeResult, type Cell, type Target } from './lib/report.ts';
import { createBenchRule, startBareServer, startReflexProcess, type Proc, type Transport } from './lib/sut.ts';
import { ratio, round } from './lib/stats.ts';

const P99_LIMIT_MS = 100;
const PROBE_SEC = QUICK ? 2 : 5;
const SUSTAIN_SEC = 30;
const LADDER = QUICK ? [250, 1000] : [500, 1000, 2000, 3000, 4000, 5000, 6000, 8000, 10000];

interface Variant {
  name: string;
  steps: Array<StepResult & { phase: 'probe' | 'sustained' }>;
  /** Highest rate held for SUSTAIN_SEC (full) or in a probe (quick). */
  heldRate?: number;
  readyMs?: number;
}

let stepCounter = 0;

async function ladder(sut: Proc, kind: 'reflex' | 'bare', variant: Variant): Promise<void> {
  let best: number | undefined;
  for (const rate of LADDER) {
    stepCounter += 1;
    const r = await runStep({ sut, kind, webhook: 'bench', step: stepCounter, rate, durationSec: PROBE_SEC, p99LimitMs: P99_LIMIT_MS });
    variant.steps.push({ ...r, phase: 'probe' });
    process.stdout.write(`  ${variant.name} probe ${rate}/s: p99 ${round(r.finishedMs.p99, 1)} ms ${r.held ? 'held' : `NOT held: ${r.why}`}\n`);
    if (!r.held) break;
    best = rate;
  }
  // The bare baseline only probes: it shows the ceiling of this machine and load generator.
  if (QUICK || kind === 'bare' || best === undefined) {
    if (best !== undefined) variant.heldRate = best;
    return;
  }
  let rate = best;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    stepCounter += 1;
    const r = await runStep({ sut, kind, webhook: 'bench', step: stepCounter, rate, durationSec: SUSTAIN_SEC, p99LimitMs: P99_LIMIT_MS, drainTimeoutSec: 30 });
    variant.steps.push({ ...r, phase: 'sustained' });
    process.stdout.write(`  ${variant.name} sustained ${rate}/s for ${SUSTAIN_SEC} s: p99 ${round(r.finishedMs.p99, 1)} ms ${r.held ? 'held' : `NOT held: ${r.why}`}\n`);
    if (r.held) {
      variant.heldRate = rate;
      return;
    }
    rate = Math.round((rate * 0.8) / 50) * 50;
  }
}

async function reflexVariant(transport: Transport): Promise<Variant> {
  const variant: Variant = { name: `reflex ${transport}`, steps: [] };
  const sut = await startReflexProcess({ transport });
  try {
    variant.readyMs = round(sut.readyMs, 0)!;
    await createBenchRule(sut.url, 'bench');
    await ladder(sut, 'reflex', variant);
  } catch (err) {
    throw new Error(`${variant.name}: ${err instanceof Error ? err.message : String(err)}\n--- its last output ---\n${sut.tail().slice(-3000)}`);
  } finally {
    await sut.stop();
  }
  return variant;
}

async function bareVariant(): Promise<Variant> {
  const variant: Variant = { name: 'bare baseline', steps: [] };
  const sut = await startBareServer();
  try {
    await ladder(sut, 'bare', variant);
  } finally {
    await sut.stop();
  }
  return variant;
}

main(async () => {
  const startedAt = new Date().toISOString();
  const variants: Variant[] = [];
  for (const make of [() => reflexVariant('embedded'), () => reflexVariant('nats'), bareVariant]) {
    const v = await make();
    variants.push(v);
  }
  const rows: Cell[][] = variants.flatMap((v) =>
    v.steps.map((s) => [
      v.name,
      s.phase,
      s.rate,
      s.http.achievedRate,
      s.http.latencyMs.p99 === undefined ? undefined : round(s.http.latencyMs.p99, 1),
      s.startedMs.p50,
      s.startedMs.p99,
      s.finishedMs.p50,
      s.finishedMs.p95,
      s.finishedMs.p99,
      s.cpuCores,
      s.rssPeakMiB,
      s.held ? 'yes' : `no: ${s.why ?? ''}`,
    ]),
  );
  printTable(
    `pipeline: webhook → rule → core.noop succeeded (probes ${PROBE_SEC} s${QUICK ? '' : `, sustained ${SUSTAIN_SEC} s`}; latencies in ms from the scheduled send)`,
    ['variant', 'phase', 'rate/s', 'got/s', '202 p99', 'start p50', 'start p99', 'done p50', 'done p95', 'done p99', 'cpu', 'rss MiB', 'held'],
    rows,
  );
  const held = Object.fromEntries(variants.map((v) => [v.name, v.heldRate]));
  const bare = held['bare baseline'];
  const ratios = {
    'embedded/bare': ratio(held['reflex embedded'], bare),
    'nats/bare': ratio(held['reflex nats'], bare),
  };
  process.stdout.write(`\nhighest rate held (${QUICK ? 'quick probes' : `${SUSTAIN_SEC} s`}, p99 < ${P99_LIMIT_MS} ms): ${JSON.stringify(held)}; ratios ${JSON.stringify(ratios)}\n`);
  const targets: Target[] = [
    { what: 'pipeline embedded', target: '≥ 5,000/s', value: held['reflex embedded'], met: QUICK ? undefined : (held['reflex embedded'] ?? 0) >= 5000 },
    { what: 'pipeline on NATS', target: '≥ 2,000/s', value: held['reflex nats'], met: QUICK ? undefined : (held['reflex nats'] ?? 0) >= 2000 },
  ];
  printTargets(targets);
  writeResult({
    benchmark: 'pipeline',
    startedAt,
    parameters: { ladder: LADDER, probeSec: PROBE_SEC, sustainSec: QUICK ? null : SUSTAIN_SEC, p99LimitMs: P99_LIMIT_MS, logLevel: 'info', process: 'reflex start (all services in one process)', loadGenerator: 'test/bench/lib/paced-load.ts (open loop, 128 keep-alive connections)' },
    figures: { held, variants },
    ratios,
    targets,
  });
});
