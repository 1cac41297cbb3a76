/**
 * The execution lifecycle against the embedded bus and a SQLite store, with scripted runners:
 * retries as attempts of one execution, timeouts, concurrency slots in order, cancel, abandoned
 * attempts, result caps and live output.
 */
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createEmbeddedBus, encodeJson, type Bus, type BusMessage } from '@reflex/bus';
import {
  busNames,
  executionRequestOf,
  isTerminal,
  newExecution,
  newId,
  type Action,
  type ActionPolicies,
  type Execution,
  type JsonObject,
  type JsonValue,
} from '@reflex/model';
import type { Runner, RunContext } from '@reflex/runners';
import { ensureStreams, publishExecutionRequest, type ServiceHandle } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { waitFor } from '../../../test/support/wait.ts';
import { handleRequest } from './lifecycle.ts';
import { startWorker } from './worker.ts';

const names = busNames('runnertest');
const silent = pino({ level: 'silent' });

function action(name: string, policies?: ActionPolicies): Action {
  return {
    ref: `test.${name}`,
    pack: 'test',
    name,
    enabled: true,
    runner: 'scripted',
    parametersSchema: { type: 'object' },
    ...(policies === undefined ? {} : { policies }),
  };
}

/** A runner whose behaviour each test scripts; it records what ran and when. */
class ScriptedRunner implements Runner {
  readonly name = 'scripted';
  running = 0;
  maxRunning = 0;
  started: string[] = [];
  behaviour: (params: JsonObject, ctx: RunContext, attempt: number) => Promise<JsonValue> = async () => ({ ok: true });
  readonly #attempts = new Map<string, number>();

  async run(request: { executionId: string; parameters: JsonObject }, ctx: RunContext): Promise<JsonValue> {
    const attempt = (this.#attempts.get(request.executionId) ?? 0) + 1;
    this.#attempts.set(request.executionId, attempt);
    this.started.push(String(request.parameters['n'] ?? request.executionId));
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      return await this.behaviour(request.parameters, ctx, attempt);
    } finally {
      this.running--;
    }
  }
}

function untilAborted(ctx: RunContext): Promise<never> {
  return new Promise((_, reject) => {
    if (ctx.signal.aborted) reject(ctx.signal.reason);
    ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason), { once: true });
  });
}

describe('action runner lifecycle', () => {
  let store: Store;
  let bus: Bus;
  let runner: ScriptedRunner;
  let service: ServiceHandle | undefined;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    await ensureStreams(bus, names);
    runner = new ScriptedRunner();
  });

  afterEach(async () => {
    await service?.stop();
    service = undefined;
    await bus.close();
    await store.close();
  });

  const start = async (options: { resultMaxBytes?: number } = {}): Promise<void> => {
    service = await startWorker({ service: 'test-worker', bus, store, names, logger: silent, runners: [runner], slotPollMs: 20, ...options });
  };

  const request = async (a: Action, parameters: JsonObject = {}): Promise<Execution> => {
    await store.actions.upsert(a);
    const execution = newExecution({ id: newId(), action: a, parameters, traceId: 't', now: new Date().toISOString() });
    await store.executions.insert(execution);
    await publishExecutionRequest(bus, names, executionRequestOf(execution, a));
    return execution;
  };

  const finished = (id: string): Promise<Execution> =>
    waitFor(async () => {
      const e = await store.executions.get(id);
      return e !== null && isTerminal(e.status) ? e : undefined;
    }, `execution ${id} to finish`);

  it('retries a failing attempt as a new attempt of the same execution, then succeeds', async () => {
    runner.behaviour = async (_p, _ctx, attempt) => {
      if (attempt < 3) throw new Error(`boom ${attempt}`);
      return { attempt };
    };
    await start();
    const e = await request(action('flaky', { retry: { maxAttempts: 3, delayMs: 10, jitter: false } }));
    const done = await finished(e.id);
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(3);
    expect(done.result).toEqual({ attempt: 3 });
    expect(done.history.map((h) => h.status)).toEqual(['requested', 'running', 'delayed', 'running', 'delayed', 'running', 'succeeded']);
    expect(done.history.filter((h) => h.status === 'running').map((h) => h.attempt)).toEqual([1, 2, 3]);
  });

  it('stops after exactly maxAttempts and keeps the last error', async () => {
    runner.behaviour = async (_p, _ctx, attempt) => {
      throw new Error(`boom ${attempt}`);
    };
    await start();
    const e = await request(action('broken', { retry: { maxAttempts: 2, delayMs: 5, jitter: false } }));
    const done = await finished(e.id);
    expect(done.status).toBe('failed');
    expect(done.attempt).toBe(2);
    expect(done.error?.message).toBe('boom 2');
    expect(runner.started).toHaveLength(2);
  });

  it('times an attempt out after the action timeout, and retries on timeout when asked', async () => {
    runner.behaviour = async (_p, ctx) => untilAborted(ctx);
    await start();
    const e = await request(action('slow', { timeout: 0.05, retry: { on: ['timeout'], maxAttempts: 2, delayMs: 1, jitter: false } }));
    const done = await finished(e.id);
    expect(done.status).toBe('timeout');
    expect(done.attempt).toBe(2);
    expect(done.error?.code).toBe('TIMEOUT');
  });

  it('holds a concurrency limit and starts waiting executions in request order', async () => {
    const release: Array<() => void> = [];
    runner.behaviour = () => new Promise((resolve) => release.push(() => resolve({})));
    await start();
    const a = action('limited', { concurrency: { limit: 2 } });
    const executions: Execution[] = [];
    for (let n = 0; n < 6; n++) executions.push(await request(a, { n }));
    for (let done = 0; done < 6; done++) {
      await waitFor(async () => (release.length > 0 ? true : undefined), 'a running attempt');
      await new Promise((r) => setTimeout(r, 30)); // give a third attempt the chance to (wrongly) start
      expect(runner.running).toBeLessThanOrEqual(2);
      release.shift()?.();
    }
    for (const e of executions) expect((await finished(e.id)).status).toBe('succeeded');
    expect(runner.maxRunning).toBe(2);
    expect(runner.started).toEqual(['0', '1', '2', '3', '4', '5']);
    const waited = await store.executions.get(executions[5]?.id ?? '');
    expect(waited?.history.some((h) => h.status === 'delayed' && h.reason === 'waiting for a concurrency slot')).toBe(true);
  });

  it('applies a concurrency limit per parameter value', async () => {
    const release: Array<() => void> = [];
    runner.behaviour = () => new Promise((resolve) => release.push(() => resolve({})));
    await start();
    const a = action('perhost', { concurrency: { limit: 1, by: 'host' } });
    const e1 = await request(a, { host: 'a', n: 1 });
    const e2 = await request(a, { host: 'a', n: 2 });
    const e3 = await request(a, { host: 'b', n: 3 });
    await waitFor(async () => (runner.running === 2 ? true : undefined), 'one attempt per host');
    await new Promise((r) => setTimeout(r, 50));
    expect(runner.started.sort()).toEqual(['1', '3']);
    while (release.length > 0 || runner.running > 0) {
      release.shift()?.();
      await new Promise((r) => setTimeout(r, 10));
    }
    for (const e of [e1, e2, e3]) expect((await finished(e.id)).status).toBe('succeeded');
  });

  it('cancels a running attempt on a cancel notice', async () => {
    runner.behaviour = async (_p, ctx) => untilAborted(ctx);
    await start();
    const e = await request(action('cancelme'));
    await waitFor(async () => ((await store.executions.get(e.id))?.status === 'running' ? true : undefined), 'running');
    await store.executions.transition(e.id, 'canceling', { reason: 'test' }, ['running']);
    await bus.notify(names.controlSubject('cancel'), encodeJson({ id: e.id }));
    const done = await finished(e.id);
    expect(done.status).toBe('canceled');
  });

  it('caps a huge result with a marker', async () => {
    runner.behaviour = async () => ({ blob: 'x'.repeat(50_000) });
    await start({ resultMaxBytes: 4096 });
    const done = await finished((await request(action('big'))).id);
    expect(done.status).toBe('succeeded');
    expect(done.result).toMatchObject({ truncated: true, originalBytes: expect.any(Number) });
    expect(JSON.stringify(done.result).length).toBeLessThan(4096);
  });

  it('keeps live output lines in order', async () => {
    runner.behaviour = async (_p, ctx) => {
      for (let i = 1; i <= 5; i++) ctx.onOutput?.(i % 2 === 0 ? 'stderr' : 'stdout', `line ${i}`);
      return {};
    };
    await start();
    const done = await finished((await request(action('talky'))).id);
    const chunks = await waitFor(async () => {
      const list = await store.outputs.list(done.id);
      return list.length === 5 ? list : undefined;
    }, 'five output lines');
    expect(chunks.map((c) => [c.seq, c.stream, c.text])).toEqual([
      [1, 'stdout', 'line 1'],
      [2, 'stderr', 'line 2'],
      [3, 'stdout', 'line 3'],
      [4, 'stderr', 'line 4'],
      [5, 'stdout', 'line 5'],
    ]);
  });

  describe('an attempt whose runner died (redelivered while running)', () => {
    const redelivered = (e: Execution, a: Action): BusMessage & { acked: boolean } => {
      const data = encodeJson(executionRequestOf(e, a));
      return {
        subject: names.executionSubject('scripted'),
        data,
        headers: {},
        seq: 1,
        deliveryCount: 2,
        acked: false,
        json: <T>() => JSON.parse(new TextDecoder().decode(data)) as T,
        string: () => new TextDecoder().decode(data),
        ack: async () => undefined,
        nak: () => undefined,
        working: () => undefined,
        term: () => undefined,
      };
    };
    const deps = () => ({
      bus,
      store,
      names,
      logger: silent,
      defaultTimeoutMs: 10_000,
      resultMaxBytes: 1 << 20,
      heartbeatMs: 1000,
      slotPollMs: 20,
      packDir: async () => undefined,
      packConfig: async () => undefined,
      running: new Map<string, AbortController>(),
    });

    it('fails it as abandoned when the action is not idempotent', async () => {
      const a = action('fragile');
      const e = await request(a);
      await store.executions.transition(e.id, 'running', { attempt: 1, startedAt: new Date().toISOString() });
      await handleRequest(deps(), runner, redelivered(e, a));
      const done = await store.executions.get(e.id);
      expect(done?.status).toBe('failed');
      expect(done?.error?.code).toBe('ABANDONED');
      expect(runner.started).toEqual([]);
    });

    it('runs it again when the action is idempotent and has attempts left', async () => {
      const a = action('sturdy', { idempotent: true, retry: { maxAttempts: 3 } });
      const e = await request(a);
      await store.executions.transition(e.id, 'running', { attempt: 1, startedAt: new Date().toISOString() });
      await handleRequest(deps(), runner, redelivered(e, a));
      const done = await store.executions.get(e.id);
      expect(done?.status).toBe('succeeded');
      expect(done?.attempt).toBe(2);
    });
  });
});
