/**
 * One execution request, from claim to outcome. Every status change is a compare-and-set in the
 * store, so a redelivered request, a second runner process or a cancel racing the finish never
 * applies an illegal move. Retries are new attempts of the same execution id (visible in its
 * history); concurrency slots are shared through the store, so limits hold across processes.
 */
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import { maskErrorJson, secretMasker, type SecretMasker } from '@reflex/auth';
import type { Bus, BusMessage } from '@reflex/bus';
import {
  ConflictError,
  NotFoundError,
  ReflexError,
  toErrorJson,
  type BusNames,
  type Execution,
  type ExecutionRequest,
  type ExecutionStatus,
  type JsonObject,
  type JsonValue,
  type PackKvRequest,
} from '@reflex/model';
import { retryHintOf, type Runner } from '@reflex/runners';
import { notifyExecutionUpdate, packKv } from '@reflex/runtime';
import type { ExecutionPatch, KeyEntry, Store } from '@reflex/store';
import { OutputRecorder } from './output-recorder.ts';
import { capResult, concurrencyKey, retryDelayMs, shouldRetry } from './policies.ts';

export interface LifecycleDeps {
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
  /** Attempt time limit when the action sets none. */
  defaultTimeoutMs: number;
  /** Largest result kept as is (JSON bytes). */
  resultMaxBytes: number;
  /** How often the message's ack timer is refreshed while an attempt runs. */
  heartbeatMs: number;
  /** How often a request waiting for a concurrency slot asks again. */
  slotPollMs: number;
  /** The pack folder of an action's pack (for entry points). */
  packDir(pack: string): Promise<string | undefined>;
  packConfig(pack: string): Promise<JsonObject | undefined>;
  /** Opens a sealed datastore secret for an action's `ctx.kv.get`; absent, actions cannot read secrets. */
  openSecret?: (entry: KeyEntry) => JsonValue;
  /** Names this worker in errors (`action-runner`). */
  service?: string;
  /** Cancel hooks of the attempts running in this process. */
  running: Map<string, AbortController>;
}

/** After a cancel or timeout, how long the runner gets to stop its work and report it. */
const ABORT_GRACE_MS = 6000;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** How many deliveries wait for an execution record that is not there yet before giving up. */
const MISSING_RECORD_DELIVERIES = 5;
const WAITING = new Set<ExecutionStatus>(['requested', 'scheduled', 'delayed']);
/** Which runner process ran an attempt: host name and pid (several runners may share a host). */
const host = `${hostname()}/${process.pid}`;

export class CancelError extends ReflexError {
  constructor() {
    super('CANCELED', 'canceled on request');
  }
}

class AttemptTimeoutError extends ReflexError {
  constructor(ms: number) {
    super('TIMEOUT', `attempt exceeded its time limit of ${ms} ms`);
  }
}

export async function handleRequest(deps: LifecycleDeps, runner: Runner, msg: BusMessage): Promise<void> {
  const request = msg.json<ExecutionRequest>();
  const log = deps.logger.child({ executionId: request.executionId, traceId: request.traceId, action: request.action });
  const { store } = deps;
  const key = concurrencyKey(request);
  const release = async (): Promise<void> => {
    if (key !== undefined) await store.slots.release(key, request.executionId);
  };
  const move = async (id: string, to: ExecutionStatus, patch: ExecutionPatch, from: ExecutionStatus[]): Promise<Execution | null> => {
    try {
      const moved = await store.executions.transition(id, to, patch, from);
      await notifyExecutionUpdate(deps.bus, deps.names, { id, status: to }).catch(() => undefined);
      return moved;
    } catch (err) {
      if (err instanceof ConflictError) return null; // someone else moved it first (cancel, another runner)
      throw err;
    }
  };

  let execution = await store.executions.get(request.executionId);
  if (execution === null) {
    if (msg.deliveryCount < MISSING_RECORD_DELIVERIES) throw new NotFoundError('execution', request.executionId);
    log.error('execution record never appeared; request dropped');
    msg.term();
    return;
  }

  if (execution.status === 'canceling') {
    await move(execution.id, 'canceled', { finishedAt: new Date().toISOString(), reason: 'canceled while its runner was gone' }, ['canceling']);
    await release();
    return;
  }
  if (execution.status === 'running') {
    // Its runner stopped acking (it died): retry an idempotent action, fail any other.
    if (request.policies?.idempotent === true && shouldRetry(request.policies, 'failed', execution.attempt)) {
      execution = await move(execution.id, 'delayed', { reason: 'abandoned by a dead runner; retrying' }, ['running']);
      if (execution === null) return;
      log.warn('attempt abandoned by a dead runner; retrying (idempotent action)');
    } else {
      await move(execution.id, 'failed', {
        finishedAt: new Date().toISOString(),
        error: { name: 'AbandonedError', code: 'ABANDONED', message: 'the runner executing it stopped before it finished' },
        reason: 'abandoned by a dead runner',
      }, ['running']);
      await release();
      log.warn('execution abandoned by a dead runner; marked failed');
      return;
    }
  }
  if (!WAITING.has(execution.status)) return; // finished or canceled: nothing to do

  if (key !== undefined) {
    const limit = request.policies?.concurrency?.limit ?? 1;
    const ttl = Math.max(deps.heartbeatMs * 3, deps.slotPollMs * 4);
    if (!(await store.slots.acquire(key, execution.id, limit, ttl, execution.createdAt))) {
      if (execution.status !== 'delayed') {
        await move(execution.id, 'delayed', { waitKey: key, reason: 'waiting for a concurrency slot' }, [execution.status]);
      }
      msg.nak(deps.slotPollMs);
      return;
    }
  }

  const attempt = execution.attempt + 1;
  const claimed = await move(execution.id, 'running', { startedAt: new Date().toISOString(), host, attempt }, [...WAITING]);
  if (claimed === null) {
    await release();
    return;
  }
  log.debug({ attempt }, 'execution started');

  const controller = new AbortController();
  // Settles (rejects) when the attempt is canceled or times out, however early that happens.
  const aborted = new Promise<never>((_, reject) => {
    controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true });
  });
  aborted.catch(() => undefined);
  deps.running.set(claimed.id, controller);
  // Datastore secrets a rule rendered into the parameters, and those the action reads through
  // `ctx.kv`, never reach the stored output, result or error. A secret read joins the masker before
  // the action gets it, so every line it prints after that is masked.
  const secrets: JsonValue[] = [...(request.secrets ?? [])];
  let masker: SecretMasker | undefined = secrets.length > 0 ? secretMasker(secrets) : undefined;
  const opened = (value: JsonValue): JsonValue => {
    secrets.push(value);
    masker = secretMasker(secrets);
    return value;
  };
  const { openSecret } = deps;
  const kv = (kvRequest: PackKvRequest): Promise<JsonValue> =>
    packKv(
      {
        store,
        bus: deps.bus,
        names: deps.names,
        logger: log,
        reader: 'actions',
        service: deps.service ?? 'action-runner',
        ...(openSecret === undefined ? {} : { openSecret: (entry: KeyEntry) => opened(openSecret(entry)) }),
      },
      request.pack,
      kvRequest,
    );
  const output = new OutputRecorder(claimed.id, deps, attempt > 1 ? await store.outputs.lastSeq(claimed.id) : 0);
  const timeoutMs = request.policies?.timeout !== undefined ? request.policies.timeout * 1000 : deps.defaultTimeoutMs;
  const heartbeat = setInterval(() => {
    msg.working();
    if (key !== undefined) void store.slots.renew(key, claimed.id, deps.heartbeatMs * 3).catch(() => undefined);
  }, deps.heartbeatMs);
  const timer = setTimeout(() => controller.abort(new AttemptTimeoutError(timeoutMs)), timeoutMs);

  let outcome: { status: ExecutionStatus; result?: JsonValue; error?: unknown };
  try {
    // A cancel that arrived between the claim and the registration above: never start the work.
    if ((await store.executions.get(claimed.id))?.status === 'canceling') controller.abort(new CancelError());
    controller.signal.throwIfAborted();
    const packDir = await deps.packDir(request.pack);
    const config = await deps.packConfig(request.pack);
    const attemptRun = runner.run(request, {
      signal: controller.signal,
      timeoutMs,
      ...(packDir === undefined ? {} : { packDir }),
      ...(config === undefined ? {} : { config }),
      kv,
      onOutput: (stream: 'stdout' | 'stderr', line: string) => output.line(stream, masker === undefined ? line : String(masker.mask(line))),
      logger: log,
    });
    attemptRun.catch(() => undefined);
    try {
      outcome = { status: 'succeeded', result: await Promise.race([attemptRun, aborted]) };
    } catch (err) {
      let carried = (err as { result?: JsonValue }).result;
      if (controller.signal.aborted && err === controller.signal.reason) {
        // Give the runner a moment to stop its process and report what it had (output, exit code).
        const settled = await Promise.race([attemptRun.then(() => undefined, (e: unknown) => e), sleep(ABORT_GRACE_MS)]);
        carried = (settled as { result?: JsonValue } | undefined)?.result;
      }
      const reason = controller.signal.aborted ? controller.signal.reason : err;
      const status: ExecutionStatus = reason instanceof CancelError ? 'canceled' : reason instanceof AttemptTimeoutError ? 'timeout' : 'failed';
      outcome = { status, error: status === 'failed' ? err : reason, ...(carried === undefined ? {} : { result: carried }) };
    }
  } catch (err) {
    outcome = err instanceof CancelError ? { status: 'canceled', error: err } : { status: 'failed', error: err };
  } finally {
    clearInterval(heartbeat);
    clearTimeout(timer);
    deps.running.delete(claimed.id);
    await output.flush();
  }

  const kept = outcome.result === undefined || masker === undefined ? outcome.result : masker.mask(outcome.result);
  const result = kept === undefined ? undefined : (capResult(kept, deps.resultMaxBytes) as JsonValue);
  const error = outcome.error === undefined ? undefined : masker === undefined ? toErrorJson(outcome.error) : maskErrorJson(toErrorJson(outcome.error), masker);
  // What is logged about the failure: the error itself, or its masked JSON when secrets are about.
  const logged = masker === undefined ? outcome.error : error;
  // The runner knows when another attempt cannot help (bad input, HTTP 4xx) or must wait (Retry-After).
  const hint = outcome.status === 'failed' ? retryHintOf(outcome.error) : { retriable: true };
  if (outcome.status !== 'succeeded' && outcome.status !== 'canceled' && hint.retriable && shouldRetry(request.policies, outcome.status, attempt)) {
    const delay = Math.max(retryDelayMs(request.policies, attempt), hint.retryAfterMs ?? 0);
    const retried = await move(claimed.id, 'delayed', {
      ...(error === undefined ? {} : { error }),
      ...(result === undefined ? {} : { result }),
      reason: `attempt ${attempt} ${outcome.status}; retrying in ${delay} ms`,
    }, ['running']);
    await release();
    if (retried !== null) {
      log.warn({ attempt, delayMs: delay, err: logged }, `attempt ${outcome.status}; will retry`);
      msg.nak(delay);
      return;
    }
  }
  const patch: ExecutionPatch = { finishedAt: new Date().toISOString() };
  if (result !== undefined) patch.result = result;
  if (error !== undefined) patch.error = error;
  await move(claimed.id, outcome.status, patch, ['running', 'canceling']);
  await release();
  if (outcome.status === 'succeeded') log.info({ attempt }, 'execution succeeded');
  else log.warn({ attempt, err: logged }, `execution ${outcome.status}`);
}
