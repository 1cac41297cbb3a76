/**
 * One load step of the end-to-end pipeline: POST /v1/webhooks/<url> at a fixed rate (open loop,
 * in a child process), wait until every accepted event's execution has finished, then read the
 * events and executions back through the API and compute, per event,
 *
 *   sentAt (scheduled send time, in the body) → execution startedAt   "webhook → action started"
 *   sentAt                                     → execution finishedAt  "webhook → stored succeeded"
 *
 * The store stamps times in whole milliseconds, so these latencies have 1 ms resolution.
 * The same step runs against the bare baseline server (fixtures/bare-server.ts), which measures
 * the same two latencies itself.
 */
import { paced } from './load.ts';
import type { PacedResult } from './paced-load.ts';
import { cpuSeconds, http, sampleRss, type Proc } from './sut.ts';
import { distribution, round, type Distribution } from './stats.ts';

export interface StepResult {
  rate: number;
  durationSec: number;
  http: PacedResult;
  /** Accepted (2xx) events whose execution finished `succeeded` within the drain time. */
  succeeded: number;
  notSucceeded: number;
  missing: number;
  startedMs: Distribution;
  finishedMs: Distribution;
  /** Seconds after the last send until the last execution finished. */
  drainSec: number;
  rssPeakMiB?: number;
  /** CPU cores the process under test used on average during the step. */
  cpuCores?: number;
  held: boolean;
  why?: string;
}

interface Page<T> {
  items: T[];
  nextCursor?: string | null;
}

interface ExecutionDoc {
  eventId?: string;
  status: string;
  startedAt?: string;
  finishedAt?: string;
  createdAt: string;
}

interface EventDoc {
  id: string;
  payload: { body?: { step?: number; sentAt?: number } };
}

async function pages<T>(base: string, path: string, stop?: (item: T) => boolean): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (;;) {
    const sep = path.includes('?') ? '&' : '?';
    const res = await http<Page<T>>('GET', `${base}${path}${sep}limit=1000${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`);
    if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    for (const item of res.body.items) {
      if (stop?.(item) === true) return out;
      out.push(item);
    }
    if (res.body.nextCursor === undefined || res.body.nextCursor === null || res.body.items.length === 0) return out;
    cursor = res.body.nextCursor;
  }
}

export interface StepOptions {
  sut: Proc;
  kind: 'reflex' | 'bare';
  webhook: string;
  step: number;
  rate: number;
  durationSec: number;
  /** p99 of webhook → succeeded must stay under this to hold. */
  p99LimitMs: number;
  drainTimeoutSec?: number;
}

export async function runStep(options: StepOptions): Promise<StepResult> {
  const { sut, rate, durationSec, step } = options;
  const url = options.kind === 'reflex' ? `${sut.url}/v1/webhooks/${options.webhook}` : `${sut.url}/pipeline`;
  const stepStart = new Date(Date.now() - 1000).toISOString();
  const rss = sampleRss(sut.pid);
  const cpuBefore = cpuSeconds(sut.pid);
  const t0 = performance.now();
  const result = await paced({ url, rate, durationSec, body: { kind: 'bench', step }, connections: 128 });
  const accepted = Object.entries(result.statuses).reduce((n, [code, count]) => (code.startsWith('2') ? n + count : n), 0);

  let started: number[] = [];
  let finished: number[] = [];
  let succeeded = 0;
  let notSucceeded = 0;
  let lastFinish = result.lastSentAt;
  const drainDeadline = Date.now() + (options.drainTimeoutSec ?? 20) * 1000;

  if (options.kind === 'bare') {
    await new Promise((r) => setTimeout(r, 200));
    const stats = await http<{ started: number[]; finished: number[] }>('GET', `${sut.url}/stats?step=${step}`);
    started = stats.body.started;
    finished = stats.body.finished;
    succeeded = finished.length;
  } else {
    // Wait until as many executions as accepted events have finished (or the drain time is up).
    // Cheap probes first (nothing requested or running), then one full count.
    const busy = async (): Promise<boolean> => {
      for (const status of ['requested', 'running']) {
        const res = await http<Page<ExecutionDoc>>('GET', `${sut.url}/v1/executions?action=core.noop&status=${status}&limit=1`);
        if (res.body.items.length > 0) return true;
      }
      return false;
    };
    while (Date.now() < drainDeadline) {
      await new Promise((r) => setTimeout(r, 250));
      if (await busy()) continue;
      await new Promise((r) => setTimeout(r, 250));
      if (await busy()) continue;
      const done = await pages<ExecutionDoc>(sut.url, '/v1/executions?action=core.noop&status=succeeded', (x) => x.createdAt < stepStart);
      if (done.length >= accepted) break;
    }
    const events = await pages<EventDoc>(sut.url, `/v1/events?type=core.webhook&since=${encodeURIComponent(stepStart)}`);
    const sentAt = new Map<string, number>();
    for (const e of events) if (e.payload.body?.step === step && typeof e.payload.body.sentAt === 'number') sentAt.set(e.id, e.payload.body.sentAt);
    const executions = await pages<ExecutionDoc>(sut.url, '/v1/executions?action=core.noop', (x) => x.createdAt < stepStart);
    for (const x of executions) {
      const sent = x.eventId === undefined ? undefined : sentAt.get(x.eventId);
      if (sent === undefined) continue;
      if (x.status !== 'succeeded' || x.startedAt === undefined || x.finishedAt === undefined) {
        notSucceeded += 1;
        continue;
      }
      succeeded += 1;
      const fin = Date.parse(x.finishedAt);
      started.push(Date.parse(x.startedAt) - sent);
      finished.push(fin - sent);
      lastFinish = Math.max(lastFinish, fin);
    }
  }
  const cpuAfter = cpuSeconds(sut.pid);
  const elapsed = (performance.now() - t0) / 1000;
  const memory = rss.stop();
  const finishedMs = distribution(finished);
  const missing = accepted - succeeded - notSucceeded;
  let why: string | undefined;
  if (result.errors > 0) why = `${result.errors} request errors (${result.errorSamples[0] ?? ''})`;
  else if (accepted < result.scheduled) why = `${result.scheduled - accepted} requests not accepted (${JSON.stringify(result.statuses)})`;
  else if (result.achievedRate < rate * 0.97) why = `achieved ${result.achievedRate}/s of ${rate}/s`;
  else if (notSucceeded > 0 || missing > 0) why = `${notSucceeded} not succeeded, ${missing} missing after the drain`;
  else if ((finishedMs.p99 ?? Infinity) >= options.p99LimitMs) why = `p99 ${round(finishedMs.p99, 1)} ms ≥ ${options.p99LimitMs} ms`;
  return {
    rate,
    durationSec,
    http: result,
    succeeded,
    notSucceeded,
    missing,
    startedMs: distribution(started),
    finishedMs,
    drainSec: round(Math.max(0, lastFinish - result.lastSentAt) / 1000, 2)!,
    ...(memory.peakMiB === undefined ? {} : { rssPeakMiB: memory.peakMiB }),
    ...(cpuBefore === undefined || cpuAfter === undefined ? {} : { cpuCores: round((cpuAfter - cpuBefore) / elapsed, 2) }),
    held: why === undefined,
    ...(why === undefined ? {} : { why }),
  };
}
