/**
 * The action runner: one consumer per runner type it hosts, on that runner's execution subject.
 * Each request is claimed with a compare-and-set (requested → running) so a redelivered request
 * never runs twice; the outcome is written the same way (running → succeeded | failed | timeout).
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Bus, BusMessage, Consumer } from '@reflex/bus';
import {
  ConflictError,
  NotFoundError,
  toErrorJson,
  type BusNames,
  type Execution,
  type ExecutionRequest,
} from '@reflex/model';
import type { Runner } from '@reflex/runners';
import { notifyExecutionUpdate, type ServiceHandle } from '@reflex/runtime';
import type { Store } from '@reflex/store';

export interface ActionRunnerDeps {
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
  runners: Runner[];
  /** Executions run at once per runner type in this process. Default 16. */
  concurrency?: number;
  /** Default time limit of one execution. Default 10 minutes. */
  defaultTimeoutMs?: number;
}

/** How many deliveries wait for an execution record that is not there yet before giving up. */
const MISSING_RECORD_DELIVERIES = 5;

export async function startActionRunner(deps: ActionRunnerDeps): Promise<ServiceHandle> {
  const logger = deps.logger.child({ service: 'action-runner' });
  const host = hostname();
  const timeoutMs = deps.defaultTimeoutMs ?? 600_000;

  const finish = async (execution: Execution, outcome: Pick<Execution, 'status' | 'result' | 'error'>): Promise<void> => {
    const patch = { finishedAt: new Date().toISOString(), ...(outcome.result === undefined ? {} : { result: outcome.result }), ...(outcome.error === undefined ? {} : { error: outcome.error }) };
    const done = await deps.store.executions.transition(execution.id, outcome.status, patch, ['running']);
    await notifyExecutionUpdate(deps.bus, deps.names, { id: done.id, status: done.status }).catch(() => undefined);
  };

  const claim = async (request: ExecutionRequest, msg: BusMessage, log: Logger): Promise<Execution | null> => {
    const current = await deps.store.executions.get(request.executionId);
    if (current === null) {
      if (msg.deliveryCount < MISSING_RECORD_DELIVERIES) throw new NotFoundError('execution', request.executionId);
      log.error('execution record never appeared; request dropped');
      return null;
    }
    if (current.status === 'running' && msg.deliveryCount > 1) {
      // The runner that claimed it died mid-run (its ack never came). Not known to be idempotent: fail it.
      await deps.store.executions.transition(current.id, 'failed', {
        finishedAt: new Date().toISOString(),
        error: { name: 'AbandonedError', code: 'ABANDONED', message: 'the runner executing it stopped before it finished' },
      }, ['running']);
      log.warn('execution abandoned by a dead runner; marked failed');
      return null;
    }
    if (!['requested', 'scheduled', 'delayed'].includes(current.status)) return null;
    try {
      return await deps.store.executions.transition(current.id, 'running', {
        startedAt: new Date().toISOString(),
        host,
        attempt: current.attempt + 1,
      }, ['requested', 'scheduled', 'delayed']);
    } catch (err) {
      if (err instanceof ConflictError) return null; // another runner claimed it first
      throw err;
    }
  };

  const run = async (runner: Runner, msg: BusMessage): Promise<void> => {
    const request = msg.json<ExecutionRequest>();
    const log = logger.child({ executionId: request.executionId, traceId: request.traceId, action: request.action });
    const execution = await claim(request, msg, log);
    if (execution === null) return;
    await notifyExecutionUpdate(deps.bus, deps.names, { id: execution.id, status: 'running' }).catch(() => undefined);
    log.info('execution started');
    const controller = new AbortController();
    const keepAlive = setInterval(() => msg.working(), 10_000);
    const timer = setTimeout(() => controller.abort(new Error('timeout')), timeoutMs);
    try {
      const result = await runner.run(request, { signal: controller.signal });
      if (controller.signal.aborted) throw controller.signal.reason;
      await finish(execution, { status: 'succeeded', result });
      log.info('execution succeeded');
    } catch (err) {
      const timedOut = controller.signal.aborted;
      await finish(execution, { status: timedOut ? 'timeout' : 'failed', error: toErrorJson(err) });
      log.warn({ err }, timedOut ? 'execution timed out' : 'execution failed');
    } finally {
      clearInterval(keepAlive);
      clearTimeout(timer);
    }
  };

  const consumers: Consumer[] = [];
  for (const runner of deps.runners) {
    consumers.push(
      await deps.bus.consume(
        {
          stream: deps.names.executionsStream,
          durable: `runner-${runner.name}`,
          filterSubject: deps.names.executionSubject(runner.name),
          concurrency: deps.concurrency ?? 16,
          ackWaitMs: 60_000,
        },
        async (msg) => {
          try {
            await run(runner, msg);
          } catch (err) {
            logger.warn({ err, seq: msg.seq, deliveryCount: msg.deliveryCount }, 'execution request not handled; will be redelivered');
            throw err;
          }
        },
      ),
    );
  }
  logger.info({ runners: deps.runners.map((r) => r.name) }, 'action runner started');
  return {
    name: 'action-runner',
    stop: async () => {
      await Promise.all(consumers.map((c) => c.stop()));
    },
  };
}
