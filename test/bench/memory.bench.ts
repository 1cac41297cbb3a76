/**
 * Benchmark 6 — memory and start-up of the all-in-one process (`reflex start`, embedded bus and
 * SQLite store, every service): time from spawn to the "Reflex ready" line (node start-up, type
 * stripping, opening the files, registering packs, listening), RSS idle, and peak RSS under a
 * paced webhook load that fires a rule for every event. Baseline: the bare Fastify server process.
 */
import { runStep } from './lib/pipeline-step.ts';
import { main, printTable, printTargets, QUICK, writeResult, type Target } from './lib/report.ts';
import { createBenchRule, rssMiB, startBareServer, startReflexProcess } from './lib/sut.ts';
import { median, ratio, round } from './lib/stats.ts';

const STARTS = QUICK ? 1 : 3;
const IDLE_SEC = QUICK ? 1 : 3;
const LOAD_RATE = QUICK ? 500 : 2000;
const LOAD_SEC = QUICK ? 3 : 20;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

main(async () => {
  const startedAt = new Date().toISOString();
  const readyMs: number[] = [];
  const idleMiB: number[] = [];
  for (let i = 0; i < STARTS; i += 1) {
    const sut = await startReflexProcess({ transport: 'embedded' });
    readyMs.push(sut.readyMs);
    await sleep(IDLE_SEC * 1000);
    const rss = rssMiB(sut.pid);
    if (rss !== undefined) idleMiB.push(rss);
    await sut.stop();
  }
  const bareReady: number[] = [];
  const bareIdle: number[] = [];
  for (let i = 0; i < STARTS; i += 1) {
    const bare = await startBareServer();
    bareReady.push(bare.readyMs);
    await sleep(IDLE_SEC * 1000);
    const rss = rssMiB(bare.pid);
    if (rss !== undefined) bareIdle.push(rss);
    await bare.stop();
  }

  const sut = await startReflexProcess({ transport: 'embedded' });
  let load;
  let afterMiB: number | undefined;
  try {
    await createBenchRule(sut.url, 'memory');
    load = await runStep({ sut, kind: 'reflex', webhook: 'memory', step: 1, rate: LOAD_RATE, durationSec: LOAD_SEC, p99LimitMs: Infinity, drainTimeoutSec: 30 });
    afterMiB = rssMiB(sut.pid);
  } finally {
    await sut.stop();
  }

  const figures = {
    readyMs: { median: round(median(readyMs), 0), runs: readyMs.map((v) => round(v, 0)) },
    idleRssMiB: { median: median(idleMiB), runs: idleMiB },
    underLoad: { rate: LOAD_RATE, durationSec: LOAD_SEC, peakRssMiB: load.rssPeakMiB, afterMiB, achieved: load.http.achievedRate, succeeded: load.succeeded, cpuCores: load.cpuCores },
    bare: { readyMs: round(median(bareReady), 0), idleRssMiB: median(bareIdle) },
  };
  printTable(
    `all-in-one process (reflex start, embedded): ${STARTS} starts, idle after ${IDLE_SEC} s, load ${LOAD_RATE}/s for ${LOAD_SEC} s`,
    ['what', 'reflex', 'bare Fastify', '× bare'],
    [
      ['time to ready (ms, median)', figures.readyMs.median, figures.bare.readyMs, ratio(figures.readyMs.median, figures.bare.readyMs, 1)],
      ['RSS idle (MiB, median)', figures.idleRssMiB.median, figures.bare.idleRssMiB, ratio(figures.idleRssMiB.median, figures.bare.idleRssMiB, 1)],
      [`RSS peak under ${LOAD_RATE}/s (MiB)`, load.rssPeakMiB, undefined, undefined],
      ['RSS after the load (MiB)', afterMiB, undefined, undefined],
    ],
  );
  const targets: Target[] = [
    { what: 'RSS idle', target: '≤ 150 MB', value: figures.idleRssMiB.median, met: (figures.idleRssMiB.median ?? Infinity) * 1.048576 <= 150 },
    { what: `RSS under load (${LOAD_RATE}/s)`, target: '≤ 300 MB', value: load.rssPeakMiB, met: (load.rssPeakMiB ?? Infinity) * 1.048576 <= 300 },
    { what: 'time to ready', target: '≤ 1.5 s', value: figures.readyMs.median, met: (figures.readyMs.median ?? Infinity) <= 1500 },
  ];
  printTargets(targets);
  writeResult({
    benchmark: 'memory',
    startedAt,
    parameters: { starts: STARTS, idleSec: IDLE_SEC, loadRate: LOAD_RATE, loadSec: LOAD_SEC, logLevel: 'info', rssSource: '/proc/<pid>/status VmRSS (MiB)' },
    figures,
    ratios: { 'ready/bare': ratio(figures.readyMs.median, figures.bare.readyMs), 'idleRss/bare': ratio(figures.idleRssMiB.median, figures.bare.idleRssMiB) },
    targets,
  });
});
