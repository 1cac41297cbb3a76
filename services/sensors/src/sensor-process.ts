/**
 * The service's side of one sensor process: forks sensor-host.ts (the same Node, TypeScript by type
 * stripping) in a process group of its own, answers its requests (emit, kv), turns its log messages
 * and its stdout/stderr into log lines, and watches it: a process that sends nothing for
 * `hangTimeoutMs` is hung and gets SIGKILL. `stop` asks first (ctx.signal), then SIGTERM, then SIGKILL.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { toErrorJson, type JsonObject, type JsonValue } from '@reflex/model';
import type { EmitRequest, HostError, HostMessage, HostSensor, KvRequest, ParentMessage } from './host-protocol.ts';

const HOST = fileURLToPath(new URL('./sensor-host.ts', import.meta.url));
const MAX_LINE = 4096;

export interface SensorProcessOptions {
  modulePath: string;
  packDir: string;
  sensor: HostSensor;
  config: JsonObject;
  /** The whole environment of the process (the service's own is never inherited). */
  env: Record<string, string>;
  execPath?: string;
  execArgv?: string[];
  heartbeatMs: number;
  hangTimeoutMs: number;
  /** Carries the sensor's ref. */
  logger: Logger;
  onReady(info: { mode: 'poll' | 'run'; pollInterval?: number }): void;
  onEmit(request: EmitRequest): Promise<JsonValue>;
  onKv(request: KvRequest): Promise<JsonValue>;
  onPollError(error: HostError): void;
}

export interface SensorExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** Why it ended, in words, when the host said (fatal), it hung, or it could not start. */
  reason?: string;
}

export class SensorProcess {
  readonly pid: number | undefined;
  readonly exited: Promise<SensorExit>;
  readonly #child: ChildProcess;
  readonly #options: SensorProcessOptions;
  #lastSeen = Date.now();
  #reason: string | undefined;
  #watchdog: NodeJS.Timeout;

  private constructor(child: ChildProcess, options: SensorProcessOptions) {
    this.#child = child;
    this.#options = options;
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      let done = false;
      const finish = (exit: SensorExit): void => {
        if (done) return;
        done = true;
        clearInterval(this.#watchdog);
        resolve(exit);
      };
      // Always listened to: an 'error' nobody hears would take the whole service down.
      child.on('error', (err) => {
        if (child.pid === undefined) finish({ code: null, signal: null, reason: `could not start: ${err.message}` });
        else options.logger.warn({ err }, 'sensor process error');
      });
      child.once('exit', (code, signal) => {
        // What the sensor started (its own children, in its process group) never outlives it, or each
        // restart of a crashing sensor would leave one more behind.
        if (child.pid !== undefined) {
          try {
            process.kill(-child.pid, 'SIGKILL');
          } catch {
            // the group is already empty
          }
        }
        finish({ code, signal, ...(this.#reason === undefined ? {} : { reason: this.#reason }) });
      });
    });
    this.#watchdog = setInterval(() => {
      if (Date.now() - this.#lastSeen <= options.hangTimeoutMs) return;
      this.#reason ??= `stopped answering (nothing for ${Math.round(options.hangTimeoutMs / 1000)} s): killed`;
      this.#signal('SIGKILL');
    }, Math.max(50, Math.min(options.heartbeatMs, options.hangTimeoutMs / 2)));
    this.#watchdog.unref();
    child.on('message', (message: HostMessage) => this.#onMessage(message));
    for (const [stream, level] of [
      [child.stdout, 'info'],
      [child.stderr, 'warn'],
    ] as const) {
      if (stream === null) continue;
      const lines = createInterface({ input: stream, crlfDelay: Infinity });
      lines.on('line', (line) => options.logger[level]({ stream: level === 'info' ? 'stdout' : 'stderr' }, line.length > MAX_LINE ? `${line.slice(0, MAX_LINE)}…` : line));
    }
  }

  static start(options: SensorProcessOptions): SensorProcess {
    const child = fork(HOST, [], {
      execPath: options.execPath ?? process.execPath,
      execArgv: options.execArgv ?? [],
      cwd: options.packDir,
      env: { ...options.env },
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      serialization: 'json',
    });
    const proc = new SensorProcess(child, options);
    proc.#send({
      type: 'start',
      modulePath: options.modulePath,
      packDir: options.packDir,
      sensor: options.sensor,
      config: options.config,
      heartbeatMs: options.heartbeatMs,
    });
    return proc;
  }

  /** Asks the sensor to stop (ctx.signal); SIGTERM after half of `graceMs`, SIGKILL at its end. */
  async stop(graceMs: number): Promise<SensorExit> {
    this.#send({ type: 'stop' });
    const exited = (ms: number): Promise<boolean> =>
      Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
    if (!(await exited(graceMs / 2))) {
      this.#signal('SIGTERM');
      if (!(await exited(graceMs / 2))) this.#signal('SIGKILL');
    }
    return await this.exited;
  }

  #signal(signal: NodeJS.Signals): void {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null || this.pid === undefined) return;
    try {
      process.kill(-this.pid, signal); // the whole group: what the sensor started goes with it
    } catch {
      this.#child.kill(signal);
    }
  }

  #send(message: ParentMessage): void {
    if (!this.#child.connected) return;
    this.#child.send(message, (err) => {
      if (err !== null) this.#options.logger.debug({ err }, 'message to the sensor process not delivered');
    });
  }

  #onMessage(message: HostMessage): void {
    this.#lastSeen = Date.now();
    const { logger } = this.#options;
    switch (message.type) {
      case 'heartbeat':
        return;
      case 'ready':
        this.#options.onReady(message.pollInterval === undefined ? { mode: message.mode } : { mode: message.mode, pollInterval: message.pollInterval });
        return;
      case 'log':
        logger[message.level]({ ...message.obj }, message.msg);
        return;
      case 'poll-error':
        this.#options.onPollError(message.error);
        return;
      case 'fatal':
        this.#reason = message.phase === 'load' ? `cannot be loaded: ${message.error.message}` : `${message.error.name === 'Error' ? '' : `${message.error.name}: `}${message.error.message}`;
        return;
      case 'emit':
      case 'kv': {
        const answer = message.type === 'emit' ? this.#options.onEmit(message) : this.#options.onKv(message);
        answer.then(
          (value) => this.#send({ type: 'reply', id: message.id, ok: true, value }),
          (err: unknown) => {
            const { name, code, message: text } = toErrorJson(err);
            this.#send({ type: 'reply', id: message.id, ok: false, error: { name, code, message: text } });
          },
        );
        return;
      }
    }
  }
}
