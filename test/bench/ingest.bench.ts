/**
 * Benchmark 1 — webhook ingest: POST /v1/webhooks/<url> → 202 (the event is durable on the bus),
 * closed loop with autocannon in its own process, against:
 *   - `reflex start api` on the embedded bus (SQLite journal, group commit)
 *   - `reflex start api` on NATS JetStream
 *   - `reflex start` (all services in one process, embedded): the engine consumes what arrives
 *   - baseline: a bare Fastify route answering 202 (fixtures/bare-server.ts)
 * The body matches the bench rule's url but not its criteria, so no action runs.
 */
import { throughput, type ThroughputResult } from './lib/load.ts';
import { main, printTable, printTargets, QUICK, writeResult, type Target } from './lib/report.ts';
import { createBenchRule, rssMiB, startBareServer, startReflexProcess, type Proc } from './lib/sut.ts';
import { median, ratio } from './lib/stats.ts';

const DURATION_SEC = QUICK ? 2 : 5;
const RUNS = QUICK ? 1 : 3;
const CONNECTIONS = 100;
const PIPELINING = 1;
const BODY = { kind: 'ingest', status: 'firing', host: 'db-1', value: 42, tags: ['prod', 'db'] };

interface Row {
  name: string;
  runs: ThroughputResult[];
  requestsPerSec: number;
  p50?: number;
  p99?: number;
  rssAfterMiB?: number;
}

async function measure(name: string, sut: Proc, url: string): Promise<Row> {
  // Warm-up (JIT, connection setup) before the measured runs.
  await throughput({ url, body: BODY, connections: CONNECTIONS, pipelining: PIPELINING, durationSec: 1 });
  const runs: ThroughputResult[] = [];
  for (let i = 0; i < RUNS; i += 1) {
    const r = await throughput({ url, body: BODY, connections: CONNECTIONS, pipelining: PIPELINING, durationSec: DURATION_SEC });
    if (r.non2xx > 0 || r.errors > 0) throw new Error(`${name}: ${r.non2xx} non-2xx answers and ${r.errors} errors`);
    runs.push(r);
  }
  const best = median(runs.map((r) => r.requestsPerSec))!;
  const rss = rssMiB(sut.pid);
  process.stdout.write(`  ${name}: ${best} req/s\n`);
  return {
    name,
    runs,
    requestsPerSec: best,
    p50: median(runs.map((r) => r.latencyMs.p50)),
    p99: median(runs.map((r) => r.latencyMs.p99)),
    ...(rss === undefined ? {} : { rssAfterMiB: rss }),
  };
}

async function reflex(name: string, transport: 'embedded' | 'nats', services: string[] | undefined): Promise<Row> {
  const sut = await startReflexProcess({ transport, ...(services === undefined ? {} : { services }) });
  try {
    await createBenchRule(sut.url, 'ingest');
    return await measure(name, sut, `${sut.url}/v1/webhooks/ingest`);
  } catch (err) {
    throw new Error(`${name}: ${err instanceof Error ? err.message : String(err)}\n${sut.tail().slice(-2000)}`);
  } finally {
    await sut.stop();
  }
}

main(async () => {
  const startedAt = new Date().toISOString();
  const bareProc = await startBareServer();
  let bare: Row;
  try {
    bare = await measure('bare Fastify 202', bareProc, `${bareProc.url}/ingest`);
  } finally {
    await bareProc.stop();
  }
  const rows = [
    await reflex('reflex api, embedded bus', 'embedded', ['api']),
    await reflex('reflex api, NATS JetStream', 'nats', ['api']),
    await reflex('reflex all-in-one, embedded', 'embedded', undefined),
    bare,
  ];
  printTable(
    `webhook ingest → 202 (autocannon: ${CONNECTIONS} connections, pipelining ${PIPELINING}, ${DURATION_SEC} s; median of ${RUNS})`,
    ['target', 'req/s', 'p50 ms', 'p99 ms', '× bare', 'rss MiB'],
    rows.map((r) => [r.name, r.requestsPerSec, r.p50, r.p99, ratio(r.requestsPerSec, bare.requestsPerSec), r.rssAfterMiB]),
  );
  const embedded = rows[0]!;
  const nats = rows[1]!;
  const targets: Target[] = [
    { what: 'ingest embedded', target: '≥ 20,000/s', value: embedded.requestsPerSec, met: embedded.requestsPerSec >= 20_000 },
    { what: 'ingest on NATS', target: '≥ 10,000/s', value: nats.requestsPerSec, met: nats.requestsPerSec >= 10_000 },
  ];
  printTargets(targets);
  writeResult({
    benchmark: 'ingest',
    startedAt,
    parameters: { durationSec: DURATION_SEC, runs: RUNS, connections: CONNECTIONS, pipelining: PIPELINING, body: BODY, logLevel: 'info' },
    figures: { rows },
    ratios: Object.fromEntries(rows.map((r) => [`${r.name}/bare`, ratio(r.requestsPerSec, bare.requestsPerSec)])),
    targets,
  });
});
