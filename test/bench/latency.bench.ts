/**
 * Benchmark 4 — latency at 1,000 events/s: webhook POST (its scheduled send time) → action started
 * (the execution's startedAt) and → stored succeeded, in the all-in-one process, embedded and on
 * NATS JetStream; baseline: the bare in-memory pipeline at the same rate.
 *
 * TODO(chat notifier): add "→ chat message delivered to a local endpoint" once the chat notifier
 * exists: a rule with a chat.post action, a local HTTP server speaking the vendor's webhook
 * protocol, and the delivery time it records.
 */
import { runStep, type StepResult } from './lib/pipeline-step.ts';
import { main, printTable, printTargets, QUICK, writeResult, type Target } from './lib/report.ts';
import { createBenchRule, startBareServer, startReflexProcess, type Proc } from './lib/sut.ts';
import { ratio } from './lib/stats.ts';

const RATE = 1000;
const DURATION_SEC = QUICK ? 3 : 15;

async function measure(name: string, sut: Proc, kind: 'reflex' | 'bare', step: number): Promise<StepResult & { name: string }> {
  // A short warm-up at the same rate, not counted.
  await runStep({ sut, kind, webhook: 'latency', step: step * 100, rate: RATE, durationSec: QUICK ? 1 : 2, p99LimitMs: Infinity });
  const r = await runStep({ sut, kind, webhook: 'latency', step, rate: RATE, durationSec: DURATION_SEC, p99LimitMs: Infinity });
  process.stdout.write(`  ${name}: started p99 ${r.startedMs.p99} ms\n`);
  return { ...r, name };
}

async function reflex(name: string, transport: 'embedded' | 'nats', step: number): Promise<StepResult & { name: string }> {
  const sut = await startReflexProcess({ transport });
  try {
    await createBenchRule(sut.url, 'latency');
    return await measure(name, sut, 'reflex', step);
  } catch (err) {
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}\n${sut.tail().slice(-2000)}`);
  } finally {
    await sut.stop();
  }
}

main(async () => {
  const startedAt = new Date().toISOString();
  const embedded = await reflex('reflex embedded', 'embedded', 1);
  const nats = await reflex('reflex nats', 'nats', 2);
  const bareProc = await startBareServer();
  let bare: StepResult & { name: string };
  try {
    bare = await measure('bare baseline', bareProc, 'bare', 3);
  } finally {
    await bareProc.stop();
  }
  const rows = [embedded, nats, bare];
  printTable(
    `latency at ${RATE}/s for ${DURATION_SEC} s (ms from the scheduled send; store times have 1 ms resolution)`,
    ['target', 'got/s', '202 p99', 'started p50', 'started p95', 'started p99', 'done p50', 'done p99', 'p99 × bare', 'ok'],
    rows.map((r) => [
      r.name,
      r.http.achievedRate,
      r.http.latencyMs.p99 === undefined ? undefined : Math.round(r.http.latencyMs.p99 * 10) / 10,
      r.startedMs.p50,
      r.startedMs.p95,
      r.startedMs.p99,
      r.finishedMs.p50,
      r.finishedMs.p99,
      ratio(r.startedMs.p99, bare.startedMs.p99, 1),
      r.succeeded === r.http.scheduled ? 'all' : `${r.succeeded}/${r.http.scheduled}`,
    ]),
  );
  const targets: Target[] = [
    { what: 'p99 webhook → action started, embedded', target: '≤ 10 ms', value: embedded.startedMs.p99, met: (embedded.startedMs.p99 ?? Infinity) <= 10 },
    { what: 'p99 webhook → action started, NATS', target: '≤ 25 ms', value: nats.startedMs.p99, met: (nats.startedMs.p99 ?? Infinity) <= 25 },
  ];
  printTargets(targets);
  process.stdout.write('\nTODO: webhook → chat message delivered (needs the chat notifier)\n');
  writeResult({
    benchmark: 'latency',
    startedAt,
    parameters: { rate: RATE, durationSec: DURATION_SEC, warmupSec: 2, logLevel: 'info', process: 'reflex start (all services in one process)' },
    figures: { rows },
    ratios: { 'embedded p99 started / bare': ratio(embedded.startedMs.p99, bare.startedMs.p99), 'nats p99 started / bare': ratio(nats.startedMs.p99, bare.startedMs.p99) },
    targets,
    notes: ['chat delivery latency: TODO once the chat notifier exists'],
  });
});
