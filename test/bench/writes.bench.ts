/**
 * Benchmark 5 — store writes per fired event, counted: the rules engine and the action runner run
 * in this process on the embedded bus and a SQLite store, each given the store through a counting
 * proxy (every repository call is counted by name; `get*`/`list*`/`ping` are reads, the rest
 * writes). Events are published straight onto the bus (the webhook route writes nothing).
 *
 *   burst    N events published at once: the engine handles them concurrently (micro-batching)
 *   trickle  events one at a time, each waited for: no batching possible (the worst case)
 *   no match events no rule matches: what an ignored event costs
 *
 * Baseline (published, not run here): StackStorm writes ≥ 6 MongoDB documents per fired event
 * (trigger instance, rule enforcement, action execution, live action, execution updates).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { startActionRunner } from '@reflex/action-runner';
import { createEmbeddedBus } from '@reflex/bus';
import { busNames, newId, type ReflexEvent, type Rule } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { startRulesEngine } from '@reflex/rules-engine';
import { ensureStreams, publishEvent } from '@reflex/runtime';
import { createSqliteStore, type FiringRecord, type Store } from '@reflex/store';
import { main, printTable, printTargets, QUICK, ROOT, writeResult, type Target } from './lib/report.ts';
import { round } from './lib/stats.ts';

const BURST = QUICK ? 300 : 2000;
const TRICKLE = QUICK ? 30 : 200;
const NO_MATCH = QUICK ? 300 : 2000;

const READ = /^(get|list|ping|count|find|read|has|stream|watch|close)/i;

class Counter {
  readonly calls = new Map<string, number>();
  rows = 0;

  add(name: string, rows = 0): void {
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    this.rows += rows;
  }

  writes(): number {
    let n = 0;
    for (const [name, count] of this.calls) if (!READ.test(name.split('.').at(-1)!)) n += count;
    return n;
  }

  reads(): number {
    let n = 0;
    for (const [name, count] of this.calls) if (READ.test(name.split('.').at(-1)!)) n += count;
    return n;
  }

  reset(): void {
    this.calls.clear();
    this.rows = 0;
  }
}

/** The store, with every call counted; `record` also counts the rows it writes. */
function counting(store: Store, counter: Counter): Store {
  const wrapRepo = (repoName: string, repo: object): object =>
    new Proxy(repo, {
      get(target, prop, receiver) {
        const value: unknown = Reflect.get(target, prop, receiver);
        if (typeof value !== 'function' || typeof prop !== 'string') return value;
        return (...args: unknown[]) => {
          counter.add(`${repoName}.${prop}`);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
  return new Proxy(store, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof prop !== 'string') return value;
      if (typeof value === 'function') {
        return (...args: unknown[]) => {
          const rows = prop === 'record' ? (args[0] as FiringRecord[]).reduce((n, f) => n + 1 + f.enforcements.length + f.executions.length, 0) : 0;
          counter.add(prop, rows);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      }
      if (typeof value === 'object' && value !== null) return wrapRepo(prop, value);
      return value;
    },
  });
}

function rule(): Rule {
  const now = new Date().toISOString();
  return {
    ref: 'bench.writes',
    pack: 'bench',
    name: 'writes',
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url: 'writes' } },
    criteria: { '==': [{ var: 'payload.body.kind' }, 'fire'] },
    action: { ref: 'core.noop' },
    source: 'api',
    createdAt: now,
    updatedAt: now,
  };
}

function event(kind: string): ReflexEvent {
  return {
    id: newId(),
    type: 'core.webhook',
    triggerParameters: { url: 'writes' },
    source: 'bench',
    payload: { body: { kind }, headers: {}, query: {} },
    occurredAt: new Date().toISOString(),
    traceId: newId().toLowerCase(),
  };
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Scenario {
  scenario: string;
  events: number;
  fired: number;
  engine: { writes: number; reads: number; rows: number; calls: Record<string, number> };
  runner: { writes: number; reads: number; calls: Record<string, number> };
  writesPerFiredEvent?: number;
  writesPerEvent: number;
  engineWritesPerEvent: number;
  runnerWritesPerExecution?: number;
  rowsPerEvent: number;
}

main(async () => {
  const startedAt = new Date().toISOString();
  const dir = mkdtempSync(join(tmpdir(), 'reflex-bench-writes-'));
  const store = await createSqliteStore({ path: join(dir, 'reflex.sqlite'), sweepIntervalMs: 0 });
  const bus = await createEmbeddedBus({ path: join(dir, 'bus.sqlite') });
  const names = busNames('benchwrites');
  const logger = pino({ level: 'silent' });
  const engineCounter = new Counter();
  const runnerCounter = new Counter();
  const scenarios: Scenario[] = [];
  try {
    await ensureStreams(bus, names);
    await registerPacks(store, await discoverPacks([join(ROOT, 'packs')]));
    await store.rules.insert(rule());
    const engine = await startRulesEngine({ bus, store: counting(store, engineCounter), names, logger });
    const runner = await startActionRunner({ bus, store: counting(store, runnerCounter), names, logger });

    const succeeded = async (): Promise<number> => {
      let n = 0;
      let cursor: string | undefined;
      for (;;) {
        const page = await store.executions.list({ action: 'core.noop', status: 'succeeded' }, { limit: 1000, ...(cursor === undefined ? {} : { cursor }) });
        n += page.items.length;
        if (page.nextCursor === undefined || page.nextCursor === null) return n;
        cursor = page.nextCursor;
      }
    };
    const stored = async (ids: string[]): Promise<boolean> => {
      for (const id of ids) if ((await store.events.get(id)) === null) return false;
      return true;
    };

    const run = async (scenario: string, count: number, kind: string, mode: 'burst' | 'trickle'): Promise<void> => {
      engineCounter.reset();
      runnerCounter.reset();
      const before = await succeeded();
      const fire = kind === 'fire';
      const ids: string[] = [];
      if (mode === 'burst') {
        const events = Array.from({ length: count }, () => event(kind));
        await Promise.all(events.map((e) => publishEvent(bus, names, e)));
        ids.push(...events.map((e) => e.id));
      } else {
        for (let i = 0; i < count; i += 1) {
          const e = event(kind);
          await publishEvent(bus, names, e);
          ids.push(e.id);
          if (fire) await until('the execution', async () => (await succeeded()) >= before + i + 1);
          else await until('the event', () => stored([e.id]));
        }
      }
      if (fire) await until('every execution', async () => (await succeeded()) >= before + count);
      else await until('every event', () => stored(ids));
      await new Promise((r) => setTimeout(r, 200)); // let acks and last updates land
      const fired = fire ? count : 0;
      const engineWrites = engineCounter.writes();
      const runnerWrites = runnerCounter.writes();
      scenarios.push({
        scenario,
        events: count,
        fired,
        engine: { writes: engineWrites, reads: engineCounter.reads(), rows: engineCounter.rows, calls: Object.fromEntries(engineCounter.calls) },
        runner: { writes: runnerWrites, reads: runnerCounter.reads(), calls: Object.fromEntries(runnerCounter.calls) },
        ...(fired > 0 ? { writesPerFiredEvent: round((engineWrites + runnerWrites) / fired, 3)!, runnerWritesPerExecution: round(runnerWrites / fired, 3)! } : {}),
        writesPerEvent: round((engineWrites + runnerWrites) / count, 3)!,
        engineWritesPerEvent: round(engineWrites / count, 3)!,
        rowsPerEvent: round(engineCounter.rows / count, 2)!,
      });
      process.stdout.write(`  ${scenario}: done\n`);
    };

    await run(`burst (${BURST} at once)`, BURST, 'fire', 'burst');
    await run(`trickle (${TRICKLE}, one at a time)`, TRICKLE, 'fire', 'trickle');
    await run(`no match (${NO_MATCH} at once)`, NO_MATCH, 'ignore', 'burst');
    await runner.stop();
    await engine.stop();
  } finally {
    await bus.close();
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }

  printTable(
    'store writes per event (counted calls on the Store port; rows = records inside record())',
    ['scenario', 'fired', 'engine w/event', 'runner w/exec', 'writes/fired event', 'writes/event', 'rows/event', 'reads (engine+runner)'],
    scenarios.map((s) => [s.scenario, s.fired, s.engineWritesPerEvent, s.runnerWritesPerExecution, s.writesPerFiredEvent, s.writesPerEvent, s.rowsPerEvent, s.engine.reads + s.runner.reads]),
  );
  for (const s of scenarios) process.stdout.write(`  ${s.scenario}: engine ${JSON.stringify(s.engine.calls)} runner ${JSON.stringify(s.runner.calls)}\n`);
  const burst = scenarios[0]!;
  const trickle = scenarios[1]!;
  const targets: Target[] = [
    { what: 'store writes per fired event (burst)', target: '≤ 2', value: burst.writesPerFiredEvent, met: (burst.writesPerFiredEvent ?? Infinity) <= 2 },
    { what: 'store writes per fired event (one at a time)', target: '≤ 2', value: trickle.writesPerFiredEvent, met: (trickle.writesPerFiredEvent ?? Infinity) <= 2 },
  ];
  printTargets(targets);
  writeResult({
    benchmark: 'writes',
    startedAt,
    parameters: { burst: BURST, trickle: TRICKLE, noMatch: NO_MATCH, store: 'sqlite (file)', bus: 'embedded (file)', readMethods: READ.source },
    figures: { scenarios },
    ratios: { 'stackstorm (≥ 6) / reflex burst': burst.writesPerFiredEvent === undefined ? undefined : round(6 / burst.writesPerFiredEvent, 2) },
    targets,
  });
});
