/**
 * Shell runners: `local-shell-cmd` (`core.local`: a command) and `local-shell-script` (a script
 * file shipped in a pack). Parameters reach the process only as argv and environment variables:
 * nothing is ever spliced into a command line, so a parameter full of `; rm -rf / $(…)` is data.
 *
 * - `local-shell-cmd` runs `cmd` with `args` as its argv, no shell in between (execve). With
 *   `shell: true`, `cmd` is a script for `/bin/sh -c`, written by the action's or rule's author;
 *   `args` become its positional parameters (`"$1"`, `"$@"`) and `env` / `PARAM_*` its variables.
 * - `local-shell-script` executes the pack file `entryPoint` (its `#!` line picks the interpreter)
 *   with `args` as argv.
 *
 * In both, `args`, `cwd`, `env`, `timeout`, `stdin` (and `cmd`, `shell`) are the runner's own
 * parameters; every other parameter of the action reaches the process as `PARAM_<NAME>`, and all
 * of them together as JSON in `REFLEX_PARAMETERS`. The process never inherits the runner's own
 * environment: it starts from `baseEnv`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { NonRetriableError, type ExecutionRequest, type JsonObject, type JsonValue } from '@reflex/model';
import { resolveEntryPoint } from './entry-point.ts';
import { ActionFailedError, isTimeoutReason, stoppedError } from './errors.ts';
import { actionEnv, checkParameters, effectiveTimeoutMs, ENV_NAME_PATTERN, textOf, withoutKeys } from './params.ts';
import { formatMs, supervise, type ProcessOutcome } from './process.ts';
import { DEFAULT_KILL_GRACE_MS, DEFAULT_OUTPUT_BYTES, type RunContext, type Runner } from './runner.ts';

/** What a child sees as PATH when the runner is given no base environment. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface ShellRunnerOptions {
  /**
   * The environment every action process starts from. Default `{ PATH: DEFAULT_PATH }`. The
   * runner's own environment (which may hold database URLs and credentials) is never inherited:
   * a service passes what its actions may see (PATH, HOME, LANG, proxies).
   */
  baseEnv?: Record<string, string>;
  /** Working directory of `local-shell-cmd` when the action gives none. Default the OS temp dir. */
  defaultCwd?: string;
  /** The shell of `shell: true`. Default `/bin/sh`. */
  shellPath?: string;
}

/** What a shell action's execution stores as its result (also on failure, timeout and cancel). */
export interface ShellResult {
  [key: string]: JsonValue;
  exitCode: number | null;
  /** The signal that ended the process (`SIGTERM` when stopped, `SIGKILL` when forced). */
  signal: string | null;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  succeeded: boolean;
}

type Scalar = string | number | boolean;

interface ProcessParams {
  args?: Scalar[];
  cwd?: string;
  env?: Record<string, JsonValue>;
  timeout?: number;
  stdin?: string;
}

interface CommandParams extends ProcessParams {
  cmd: string;
  shell?: boolean;
}

const processProperties = {
  args: { type: 'array', items: { type: ['string', 'number', 'boolean'] } },
  cwd: { type: 'string', minLength: 1 },
  env: {
    type: 'object',
    propertyNames: { pattern: ENV_NAME_PATTERN },
    additionalProperties: { type: ['string', 'number', 'boolean', 'null'] },
  },
  timeout: { type: 'number', exclusiveMinimum: 0 },
  stdin: { type: 'string' },
} as const;

/** The runner's own parameters; an action using the runner may add any others (they become PARAM_*). */
const commandSchema = {
  $id: 'reflex:runner:local-shell-cmd',
  type: 'object',
  required: ['cmd'],
  properties: { ...processProperties, cmd: { type: 'string', minLength: 1 }, shell: { type: 'boolean' } },
} as const;

const scriptSchema = {
  $id: 'reflex:runner:local-shell-script',
  type: 'object',
  properties: processProperties,
} as const;

const COMMAND_KEYS = ['cmd', 'shell', 'args', 'cwd', 'env', 'timeout', 'stdin'] as const;
const SCRIPT_KEYS = ['args', 'cwd', 'env', 'timeout', 'stdin'] as const;

export function createShellCommandRunner(options: ShellRunnerOptions = {}): Runner {
  const name = 'local-shell-cmd';
  return {
    name,
    run: async (request, ctx) => {
      const params = checkParameters<CommandParams>(commandSchema, request.parameters, name);
      const args = (params.args ?? []).map((a, i) => textOf(a, `parameters.args.${i}`));
      const cmd = textOf(params.cmd, 'parameters.cmd');
      const [file, argv] = params.shell === true ? [options.shellPath ?? '/bin/sh', ['-c', cmd, request.action, ...args]] : [cmd, args];
      return runProcess(request, ctx, {
        file,
        argv,
        params,
        actionParameters: withoutKeys(request.parameters, COMMAND_KEYS),
        defaultCwd: options.defaultCwd ?? tmpdir(),
        baseEnv: options.baseEnv ?? { PATH: DEFAULT_PATH },
        describe: params.shell === true ? 'shell script' : `command '${cmd}'`,
      });
    },
  };
}

export function createShellScriptRunner(options: ShellRunnerOptions = {}): Runner {
  const name = 'local-shell-script';
  return {
    name,
    run: async (request, ctx) => {
      const params = checkParameters<ProcessParams>(scriptSchema, request.parameters, name);
      const { file, packDir } = await resolveEntryPoint(request, ctx.packDir, name);
      try {
        await access(file, constants.X_OK);
      } catch (err) {
        throw new NonRetriableError(
          `script '${request.entryPoint}' of ${request.action} is not executable (chmod +x it; its first line names the interpreter, e.g. #!/bin/sh)`,
          { code: 'NOT_EXECUTABLE', cause: err },
        );
      }
      return runProcess(request, ctx, {
        file,
        argv: (params.args ?? []).map((a, i) => textOf(a, `parameters.args.${i}`)),
        params,
        actionParameters: withoutKeys(request.parameters, SCRIPT_KEYS),
        defaultCwd: packDir,
        packDir,
        baseEnv: options.baseEnv ?? { PATH: DEFAULT_PATH },
        describe: `script '${request.entryPoint}'`,
      });
    },
  };
}

interface ProcessSpec {
  file: string;
  argv: string[];
  params: ProcessParams;
  actionParameters: JsonObject;
  defaultCwd: string;
  packDir?: string;
  baseEnv: Record<string, string>;
  /** For messages: `command 'ls'`, `script 'actions/x.sh'`. */
  describe: string;
}

async function runProcess(request: ExecutionRequest, ctx: RunContext, spec: ProcessSpec): Promise<ShellResult> {
  const { params } = spec;
  const env = actionEnv(request, {
    base: spec.baseEnv,
    actionParameters: spec.actionParameters,
    ...(params.env === undefined ? {} : { env: params.env }),
    ...(spec.packDir === undefined ? {} : { packDir: spec.packDir }),
  });
  const cwd = path.resolve(spec.defaultCwd, textOf(params.cwd ?? '.', 'parameters.cwd'));
  const cwdStat = await stat(cwd).catch(() => null);
  if (cwdStat === null || !cwdStat.isDirectory()) {
    throw new NonRetriableError(`working directory '${cwd}' does not exist or is not a directory`, { code: 'INVALID_CWD' });
  }
  const timeoutMs = effectiveTimeoutMs(params.timeout, ctx.timeoutMs);
  if (ctx.signal.aborted) throw stoppedError(isTimeoutReason(ctx.signal.reason) ? 'timeout' : 'canceled', `${request.action} was stopped before it started`, undefined, ctx.signal.reason);

  let child: ChildProcess;
  try {
    child = spawn(spec.file, spec.argv, {
      cwd,
      env,
      detached: true,
      stdio: [params.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
  } catch (err) {
    throw spawnFailure(spec, err as NodeJS.ErrnoException);
  }
  if (params.stdin !== undefined && child.stdin !== null) {
    // A process that exits without reading its stdin is not an error of ours.
    child.stdin.on('error', () => undefined);
    child.stdin.end(params.stdin);
  }
  ctx.logger?.debug({ pid: child.pid, file: spec.file, cwd }, 'action process started');
  const outcome = await supervise(child, {
    signal: ctx.signal,
    ...(timeoutMs === undefined ? {} : { timeoutMs }),
    graceMs: ctx.limits?.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
    outputBytes: ctx.limits?.outputBytes ?? DEFAULT_OUTPUT_BYTES,
    ...(ctx.onOutput === undefined ? {} : { onOutput: ctx.onOutput }),
    ...(ctx.logger === undefined ? {} : { logger: ctx.logger }),
  });
  if (outcome.spawnError !== undefined) throw spawnFailure(spec, outcome.spawnError);
  const result = shellResult(outcome);
  if (outcome.stopped !== null) {
    const why = outcome.stopped === 'timeout' ? `timed out${timeoutMs === undefined ? '' : ` after ${formatMs(timeoutMs)}`}` : 'was canceled';
    throw stoppedError(outcome.stopped, `${spec.describe} ${why}; stopped (${result.signal ?? `exit code ${result.exitCode}`})`, result, outcome.stopReason);
  }
  if (!result.succeeded) {
    const how = result.signal !== null ? `was killed by ${result.signal}` : `exited with code ${result.exitCode}`;
    const last = lastLine(result.stderr) ?? lastLine(result.stdout);
    throw new ActionFailedError(`${spec.describe} ${how}${last === undefined ? '' : `: ${last}`}`, { result });
  }
  return result;
}

export function shellResult(outcome: ProcessOutcome): ShellResult {
  return {
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    stdout: outcome.stdout.text,
    stderr: outcome.stderr.text,
    stdoutTruncated: outcome.stdout.truncated,
    stderrTruncated: outcome.stderr.truncated,
    succeeded: outcome.stopped === null && outcome.exitCode === 0,
  };
}

function spawnFailure(spec: ProcessSpec, err: NodeJS.ErrnoException): NonRetriableError {
  const reasons: Record<string, [string, string]> = {
    ENOENT: ['COMMAND_NOT_FOUND', 'not found (for a script: is the interpreter on its #! line installed?)'],
    EACCES: ['NOT_EXECUTABLE', 'is not executable'],
    E2BIG: ['SPAWN_FAILED', 'cannot be started: its arguments and environment are too large (pass big data on stdin)'],
  };
  const [code, what] = reasons[err.code ?? ''] ?? ['SPAWN_FAILED', `cannot be started: ${err.message}`];
  return new NonRetriableError(`${spec.describe} ${what}`, { code, cause: err });
}

function lastLine(text: string): string | undefined {
  const line = text.trimEnd().split('\n').pop()?.trim();
  if (line === undefined || line === '') return undefined;
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}
