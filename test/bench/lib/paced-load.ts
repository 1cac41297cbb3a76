/**
 * An open-loop load generator, run as its own process (never inside the process under test):
 * POSTs JSON at a fixed rate, on a 1 ms schedule, over a pool of keep-alive connections, for a
 * fixed time, then prints one JSON line with what happened.
 *
 * Why not autocannon here: its `overallRate` lets each connection send its whole per-second quota
 * back to back and then pause until the next second, so the server sees a burst every second.
 * Sustained-rate steps need arrivals spread evenly; autocannon still drives the closed-loop
 * throughput runs (ingest).
 *
 * Each request's body carries `sentAt`: the wall-clock time (ms, fractional) it was *scheduled*
 * for, so a generator or server that falls behind shows up in the latency (no coordinated
 * omission), and the server side can compute webhook → action latencies from its own records.
 *
 * Usage: node paced-load.ts '<json options>' (see PacedOptions).
 */
import { Agent, request } from 'node:http';

export interface PacedOptions {
  url: string;
  /** Requests per second. */
  rate: number;
  durationSec: number;
  /** Keep-alive connections at most. Default 64. */
  connections?: number;
  /** Fields of every body; `sentAt` and `seq` are added. */
  body: Record<string, unknown>;
  /** Give up waiting for answers this long after the last send. Default 15 s. */
  drainTimeoutSec?: number;
}

export interface PacedResult {
  rate: number;
  durationSec: number;
  scheduled: number;
  completed: number;
  statuses: Record<string, number>;
  errors: number;
  /** Error messages, a few. */
  errorSamples: string[];
  /** 2xx answers per second of the sending period. */
  achievedRate: number;
  /** Scheduled send time → response, ms. */
  latencyMs: { p50?: number; p95?: number; p99?: number; max?: number };
  /** Worst delay between a request's scheduled time and its actual send, ms. */
  maxSendLagMs: number;
  firstSentAt: number;
  lastSentAt: number;
}

function pct(sorted: Float64Array, p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

export async function runPaced(options: PacedOptions): Promise<PacedResult> {
  const target = new URL(options.url);
  const agent = new Agent({ keepAlive: true, maxSockets: options.connections ?? 64 });
  const total = Math.round(options.rate * options.durationSec);
  const wallStart = performance.timeOrigin + performance.now() + 20;
  const intervalMs = 1000 / options.rate;
  const latencies = new Float64Array(total);
  const statuses: Record<string, number> = {};
  const errorSamples: string[] = [];
  let errors = 0;
  let completed = 0;
  let ok = 0;
  let sent = 0;
  let maxLag = 0;
  let lastOkAt = wallStart;

  const wall = () => performance.timeOrigin + performance.now();

  const send = (seq: number): void => {
    const scheduledAt = wallStart + seq * intervalMs;
    maxLag = Math.max(maxLag, wall() - scheduledAt);
    const body = JSON.stringify({ ...options.body, seq, sentAt: Math.round(scheduledAt * 1000) / 1000 });
    const req = request(
      {
        agent,
        host: target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        res.resume();
        res.on('end', () => {
          const now = wall();
          latencies[completed] = now - scheduledAt;
          completed += 1;
          const code = String(res.statusCode);
          statuses[code] = (statuses[code] ?? 0) + 1;
          if (res.statusCode !== undefined && res.statusCode >= 200 && res.statusCode < 300) {
            ok += 1;
            lastOkAt = now;
          }
        });
      },
    );
    req.on('error', (err) => {
      errors += 1;
      if (errorSamples.length < 5) errorSamples.push(err.message);
    });
    req.end(body);
  };

  await new Promise<void>((resolve) => {
    const tick = (): void => {
      const due = Math.min(total, Math.floor((wall() - wallStart) / intervalMs) + 1);
      while (sent < due) send(sent++);
      if (sent < total) setTimeout(tick, 1);
      else resolve();
    };
    setTimeout(tick, Math.max(0, wallStart - wall()));
  });
  const lastSentAt = wall();

  const deadline = Date.now() + (options.drainTimeoutSec ?? 15) * 1000;
  while (completed + errors < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  agent.destroy();

  const sorted = latencies.slice(0, completed).sort();
  const sendingSec = Math.max(options.durationSec, (lastOkAt - wallStart) / 1000);
  return {
    rate: options.rate,
    durationSec: options.durationSec,
    scheduled: total,
    completed,
    statuses,
    errors,
    errorSamples,
    achievedRate: Math.round(ok / sendingSec),
    latencyMs: {
      p50: pct(sorted, 50),
      p95: pct(sorted, 95),
      p99: pct(sorted, 99),
      max: sorted.length > 0 ? sorted[sorted.length - 1] : undefined,
    },
    maxSendLagMs: Math.round(maxLag * 10) / 10,
    firstSentAt: wallStart,
    lastSentAt,
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const options = JSON.parse(process.argv[2] ?? '{}') as PacedOptions;
  runPaced(options).then(
    (result) => {
      process.stdout.write(`${JSON.stringify(result)}\n`);
      process.exit(0);
    },
    (err: unknown) => {
      process.stderr.write(`paced-load failed: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
