/**
 * `nodejs`: an action written as a TypeScript or JavaScript module in a pack
 * (`export default async (params, ctx) => result`), run in a child process of its own so that
 * nothing it does (throw late, `process.exit`, crash, leak) reaches the runner. The child is the
 * same Node (`process.execPath`: TypeScript runs by type stripping) running node-bootstrap.ts;
 * they speak over the IPC channel (node-protocol.ts). Output written to stdout/stderr and lines of
 * `ctx.logger` are captured like a shell action's. Cancel and timeout abort `ctx.signal` in the
 * child first, then SIGTERM at half the grace period and SIGKILL at its end.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { NonRetriableError, ReflexError, toErrorJson, type ExecutionRequest, type JsonObject, type JsonValue } from '@reflex/model';
import { resolveEntryPoint } from './entry-point.ts';
import { ActionFailedError, isTimeoutReason, stoppedError } from './errors.ts';
import type { ChildMessage, KvMessage, ParentMessage } from './node-protocol.ts';
import { formatMs, supervise } from './process.ts';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_OUTPUT_BYTES, type RunContext, type Runner } from './runner.ts';
import { DEFAULT_PATH, shellResult, type ShellResult } from './shell.ts';

const BOOTSTRAP = fileURLToPath(new URL('./node-bootstrap.ts', import.meta.url));

/** Code of the rejection of an action's `ctx.kv` calls when the runner was given no datastore (`RunContext.kv`). */
export const KV_UNAVAILABLE = 'KV_UNAVAILABLE';

export interface NodeRunnerOptions {
  /** The environment of the action's process. Default `{ PATH: DEFAULT_PATH }`; the runner's own is never inherited. */
  baseEnv?: Record<string, string>;
  /** The Node binary. Default the runner's own (`process.execPath`), which must run TypeScript (Node ≥ 22.18 / 23.6). */
  execPath?: string;
  /** Node flags for the action's process, e.g. `--max-old-space-size=256`. Default none (the runner's are not inherited). */
  execArgv?: string[];
}

export function createNodeRunner(options: NodeRunnerOptions = {}): Runner {
  const name = 'nodejs';
  return {
    name,
    run: async (request, ctx) => {
      const { file, packDir } = await resolveEntryPoint(request, ctx.packDir, name);
      return runNodeAction(request, ctx, options, file, packDir);
    },
  };
}

async function runNodeAction(request: ExecutionRequest, ctx: RunContext, options: NodeRunnerOptions, modulePath: string, packDir: string): Promise<JsonValue> {
  if (ctx.signal.aborted) throw stoppedError(isTimeoutReason(ctx.signal.reason) ? 'timeout' : 'canceled', `${request.action} was stopped before it started`, undefined, ctx.signal.reason);
  let child: ChildProcess;
  try {
    child = fork(BOOTSTRAP, [], {
      execPath: options.execPath ?? process.execPath,
      execArgv: options.execArgv ?? [],
      cwd: packDir,
      env: { ...(options.baseEnv ?? { PATH: DEFAULT_PATH }) },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
  } catch (err) {
    throw new NonRetriableError(`cannot start a process for ${request.action}: ${(err as Error).message}`, { code: 'SPAWN_FAILED', cause: err });
  }
  let reply: ChildMessage | undefined;
  const send = (message: ParentMessage): void => {
    if (!child.connected) return;
    child.send(message, (err) => {
      if (err !== null) ctx.logger?.debug({ err, pid: child.pid }, 'message to the action process not delivered');
    });
  };
  child.on('message', (message: ChildMessage) => {
    if (message.type === 'kv') answerKv(message, ctx, send, request.action);
    else if (reply === undefined && (message.type === 'result' || message.type === 'error')) reply = message;
  });
  const config: JsonObject = ctx.config ?? {};
  send({
    type: 'run',
    modulePath,
    parameters: request.parameters,
    config,
    context: { executionId: request.executionId, action: request.action, pack: request.pack, packDir, traceId: request.traceId },
  });
  ctx.logger?.debug({ pid: child.pid, modulePath }, 'node action process started');

  const outcome = await supervise(child, {
    signal: ctx.signal,
    ...(ctx.timeoutMs === undefined ? {} : { timeoutMs: ctx.timeoutMs }),
    graceMs: ctx.limits?.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    outputBytes: ctx.limits?.outputBytes ?? DEFAULT_OUTPUT_BYTES,
    ...(ctx.onOutput === undefined ? {} : { onOutput: ctx.onOutput }),
    ...(ctx.logger === undefined ? {} : { logger: ctx.logger }),
    softStop: (kind) => send({ type: 'abort', reason: kind }),
  });
  if (outcome.spawnError !== undefined) {
    throw new NonRetriableError(`cannot start a process for ${request.action}: ${outcome.spawnError.message}`, { code: 'SPAWN_FAILED', cause: outcome.spawnError });
  }
  const processResult = shellResult(outcome);
  if (outcome.stopped !== null) {
    const why = outcome.stopped === 'timeout' ? `timed out${ctx.timeoutMs === undefined ? '' : ` after ${formatMs(ctx.timeoutMs)}`}` : 'was canceled';
    throw stoppedError(outcome.stopped, `${request.action} ${why}`, processResult, outcome.stopReason);
  }
  const answer = reply as ChildMessage | undefined; // set by the message listener while supervise waited
  if (answer?.type === 'result') return answer.value;
  if (answer?.type === 'error') throw actionError(request, answer, processResult);
  const how = processResult.signal !== null ? `was killed by ${processResult.signal}` : `exited with code ${processResult.exitCode}`;
  throw new ActionFailedError(`${request.action}'s process ${how} before the action returned`, { code: 'ACTION_EXITED', result: processResult });
}

/** Carries out one `ctx.kv` call of the action through `ctx.kv` and sends the answer back under the call's id. */
function answerKv(message: KvMessage, ctx: RunContext, send: (message: ParentMessage) => void, action: string): void {
  const { type: _type, id, ...request } = message;
  if (typeof id !== 'number') return; // not a call the child can be waiting for
  let answer: Promise<JsonValue>;
  if (ctx.kv === undefined) {
    answer = Promise.reject(new ReflexError(KV_UNAVAILABLE, `the datastore is not available to ${action} here (its runner was given none)`));
  } else {
    try {
      answer = ctx.kv(request);
    } catch (err) {
      answer = Promise.reject(err);
    }
  }
  answer.then(
    (value) => send({ type: 'kv-reply', id, ok: true, value }),
    (err: unknown) => {
      const { name, code, message: text } = toErrorJson(err);
      send({ type: 'kv-reply', id, ok: false, error: { name, code, message: text } });
    },
  );
}

function actionError(request: ExecutionRequest, answer: Extract<ChildMessage, { type: 'error' }>, result: ShellResult): Error {
  const { error, phase } = answer;
  if (phase === 'load') {
    return new NonRetriableError(`entry point '${request.entryPoint}' of ${request.action} cannot be loaded: ${error.message}`, { code: 'ENTRY_POINT_INVALID' });
  }
  if (phase === 'result') return new NonRetriableError(`${request.action}: ${error.message}`, { code: 'RESULT_NOT_JSON' });
  const retriable = error.retriable ?? error.name !== 'NonRetriableError';
  return new ActionFailedError(error.name === 'Error' ? error.message : `${error.name}: ${error.message}`, {
    code: error.code ?? 'ACTION_ERROR',
    result,
    retriable,
    ...(retriable && error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
  });
}
