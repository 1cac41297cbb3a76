/**
 * Watching over one child process: output capture with caps, live lines, the time limit and
 * cancellation, and stopping it for good. Children are spawned `detached` (their own process
 * group) so that stopping one reaches everything it started: SIGTERM to the group, then
 * SIGKILL after a grace period.
 */
import type { ChildProcess } from 'node:child_process';
import { isTimeoutReason } from './errors.ts';
import { OutputCollector, type CapturedOutput } from './output.ts';
import type { OutputStream, RunnerLogger } from './runner.ts';

export interface SuperviseOptions {
  /** Canceled (or timed out, by the caller) from outside. */
  signal: AbortSignal;
  /** The process is stopped after this long. */
  timeoutMs?: number;
  graceMs: number;
  outputBytes: number;
  onOutput?: (stream: OutputStream, line: string) => void;
  logger?: RunnerLogger;
  /**
   * A gentler first step than SIGTERM (the node runner's abort message). When given, stopping
   * calls it, then sends SIGTERM after half of `graceMs` and SIGKILL after the other half, so a
   * stop never takes longer than `graceMs` either way.
   */
  softStop?: (kind: 'timeout' | 'canceled') => void;
}

export interface ProcessOutcome {
  exitCode: number | null;
  /** The signal that ended the process, if one did. */
  signal: NodeJS.Signals | null;
  stdout: CapturedOutput;
  stderr: CapturedOutput;
  /** Set when the process was stopped by the time limit or by `signal`. */
  stopped: 'timeout' | 'canceled' | null;
  /** Why it was stopped: the abort reason, or undefined for the time limit. */
  stopReason?: unknown;
  /** The process could not be started at all (ENOENT, EACCES, E2BIG). */
  spawnError?: NodeJS.ErrnoException;
}

/**
 * After the process exits, how long to wait for its output pipes to close. A background child it
 * left running may hold them open; its output after that is not waited for.
 */
const DRAIN_MS = 500;

/** Sends `sig` to the process group led by `pid`; a group that is gone already is fine. */
export function killGroup(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(-pid, sig);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/** Resolves once `child` has exited and its output is in (never rejects). */
export function supervise(child: ChildProcess, options: SuperviseOptions): Promise<ProcessOutcome> {
  const stdout = new OutputCollector('stdout', options.outputBytes, options.onOutput);
  const stderr = new OutputCollector('stderr', options.outputBytes, options.onOutput);
  child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
  child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
  const pid = child.pid;
  const log = options.logger;

  return new Promise<ProcessOutcome>((resolve) => {
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let exited = false;
    let stopped: 'timeout' | 'canceled' | null = null;
    let stopReason: unknown;
    let spawnError: NodeJS.ErrnoException | undefined;
    let done = false;
    const timers: NodeJS.Timeout[] = [];

    const later = (ms: number, fn: () => void): void => {
      timers.push(setTimeout(fn, ms));
    };

    const signalGroup = (sig: NodeJS.Signals): void => {
      if (pid === undefined) return;
      try {
        killGroup(pid, sig);
      } catch (err) {
        log?.warn({ err, pid, signal: sig }, 'could not signal the process group');
      }
    };

    const finish = (): void => {
      if (done) return;
      done = true;
      for (const t of timers) clearTimeout(t);
      options.signal.removeEventListener('abort', onAbort);
      child.stdout?.destroy();
      child.stderr?.destroy();
      const outcome: ProcessOutcome = { exitCode, signal: exitSignal, stdout: stdout.end(), stderr: stderr.end(), stopped };
      if (stopped !== null) outcome.stopReason = stopReason;
      if (spawnError !== undefined) outcome.spawnError = spawnError;
      resolve(outcome);
    };

    const stop = (kind: 'timeout' | 'canceled', reason: unknown): void => {
      if (stopped !== null || exited || done) return;
      stopped = kind;
      stopReason = reason;
      log?.debug({ pid, kind }, 'stopping the action process');
      const term = (killAfterMs: number): void => {
        if (exited) return;
        signalGroup('SIGTERM');
        later(killAfterMs, () => {
          if (exited) return;
          log?.warn({ pid, graceMs: options.graceMs }, 'action process ignored SIGTERM; sending SIGKILL');
          signalGroup('SIGKILL');
        });
      };
      if (options.softStop === undefined) {
        term(options.graceMs);
        return;
      }
      try {
        options.softStop(kind);
      } catch (err) {
        log?.debug({ err, pid }, 'soft stop failed; terminating');
      }
      const half = Math.ceil(options.graceMs / 2);
      later(half, () => term(options.graceMs - half));
    };

    function onAbort(): void {
      stop(isTimeoutReason(options.signal.reason) ? 'timeout' : 'canceled', options.signal.reason);
    }

    child.on('error', (err: NodeJS.ErrnoException) => {
      // Either the process could not be spawned (no pid: no 'exit' will follow), or a kill/send failed.
      if (child.pid === undefined) {
        spawnError = err;
        finish();
      } else {
        log?.debug({ err, pid }, 'child process error');
      }
    });
    child.on('exit', (code, sig) => {
      exited = true;
      exitCode = code;
      exitSignal = sig;
      // Whatever it left in its group goes with it when it was stopped.
      if (stopped !== null) signalGroup('SIGKILL');
      later(DRAIN_MS, finish);
    });
    child.on('close', finish);

    if (options.signal.aborted) onAbort();
    else options.signal.addEventListener('abort', onAbort, { once: true });
    if (options.timeoutMs !== undefined) later(options.timeoutMs, () => stop('timeout', undefined));
  });
}

/** `2s`, `1.5s`, `250ms`: for messages. */
export function formatMs(ms: number): string {
  return ms >= 1000 ? `${Number((ms / 1000).toFixed(3))}s` : `${Math.round(ms)}ms`;
}
