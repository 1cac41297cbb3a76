/**
 * Keeps one pack sensor running in a process of its own: starts it, and when it crashes (a load
 * error, a throw or early return of `run`, an exit, a hang) starts it again after an exponential
 * backoff with jitter. A poll that throws is counted, not a crash. Its status (state, pid, restarts,
 * last error, events emitted and refused) goes to the status board.
 */
import type { Logger } from 'pino';
import { ReflexError, toErrorJson, type JsonObject, type JsonValue, type SensorStatus } from '@reflex/model';
import type { PackSensor } from '@reflex/packs';
import { backoffDelay, type BackoffOptions } from './backoff.ts';
import type { EventGate } from './event-gate.ts';
import { EVENT_INVALID, type KvRequest } from './host-protocol.ts';
import { SensorProcess, type SensorExit } from './sensor-process.ts';
import type { StatusBoard } from './status-board.ts';

export interface ProcessSettings {
  /** The environment of sensor processes (the service's own is never inherited). */
  env: Record<string, string>;
  execPath?: string;
  execArgv?: string[];
  heartbeatMs: number;
  hangTimeoutMs: number;
  /** How long a stopping sensor gets before SIGTERM (half) and SIGKILL (all of it). */
  stopGraceMs: number;
}

export interface SupervisorDeps {
  /** The lease holder id of this sensors process, and its machine. */
  holder: string;
  host: string;
  logger: Logger;
  board: StatusBoard;
  gate: EventGate;
  kv(pack: string, request: KvRequest): Promise<JsonValue>;
  packConfig(pack: string): Promise<JsonObject>;
  backoff: BackoffOptions;
  process: ProcessSettings;
  random?: () => number;
}

function describeExit(exit: SensorExit): string {
  if (exit.reason !== undefined) return exit.reason;
  if (exit.signal !== null) return `its process was killed by ${exit.signal}`;
  return `its process exited with code ${exit.code}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done);
  });
}

export class SensorSupervisor {
  readonly sensor: PackSensor;
  readonly #deps: SupervisorDeps;
  readonly #logger: Logger;
  readonly #stopping = new AbortController();
  #status: SensorStatus;
  #current: SensorProcess | undefined;
  #loop: Promise<void> = Promise.resolve();

  constructor(sensor: PackSensor, deps: SupervisorDeps) {
    this.sensor = sensor;
    this.#deps = deps;
    this.#logger = deps.logger.child({ sensor: sensor.definition.ref });
    this.#status = {
      ref: sensor.definition.ref,
      state: 'starting',
      host: deps.host,
      holder: deps.holder,
      supervisorPid: process.pid,
      restarts: 0,
      pollErrors: 0,
      emitted: 0,
      refused: 0,
      updatedAt: new Date().toISOString(),
    };
  }

  get status(): SensorStatus {
    return { ...this.#status };
  }

  start(): void {
    this.#loop = this.#run().catch((err: unknown) => this.#logger.error({ err }, 'sensor supervision failed'));
  }

  /** Keeps its status from expiring (called on every lease renewal). */
  touch(): void {
    this.#deps.board.update(this.#status);
  }

  /**
   * Stops the sensor and waits for its process to end. `lost`: another process holds its lease
   * now and reports on it, so nothing more is written here; otherwise its status says `stopped`.
   */
  async stop(why: 'shutdown' | 'changed' | 'lost'): Promise<void> {
    if (this.#stopping.signal.aborted) return await this.#loop;
    this.#stopping.abort();
    if (why === 'lost') this.#deps.board.drop(this.#status.ref);
    await this.#current?.stop(this.#deps.process.stopGraceMs);
    await this.#loop;
    if (why !== 'lost') {
      this.#set({ state: 'stopped', pid: undefined, nextStartAt: undefined }, true);
      await this.#deps.board.flush();
    }
    this.#logger.info({ why }, 'sensor stopped');
  }

  #set(change: Partial<SensorStatus>, urgent = false): void {
    const next: SensorStatus = { ...this.#status, ...change };
    for (const key of Object.keys(change) as Array<keyof SensorStatus>) if (change[key] === undefined) delete next[key];
    this.#status = next;
    if (!this.#stopping.signal.aborted || change.state === 'stopped') this.#deps.board.update(next, urgent);
  }

  async #run(): Promise<void> {
    const { definition } = this.sensor;
    let attempt = 0;
    while (!this.#stopping.signal.aborted) {
      this.#set({ state: 'starting', pid: undefined, nextStartAt: undefined }, true);
      const startedAt = Date.now();
      let exit: SensorExit;
      try {
        const config = await this.#deps.packConfig(definition.pack);
        if (this.#stopping.signal.aborted) break;
        const proc = this.#spawn(config);
        this.#current = proc;
        this.#set({ pid: proc.pid, startedAt: new Date(startedAt).toISOString() }, true);
        this.#logger.info({ pid: proc.pid }, 'sensor process started');
        exit = await proc.exited;
        this.#current = undefined;
      } catch (err) {
        exit = { code: null, signal: null, reason: `could not start: ${toErrorJson(err).message}` };
      }
      if (this.#stopping.signal.aborted) break;
      if (Date.now() - startedAt >= this.#deps.backoff.resetAfterMs) attempt = 0;
      const delay = backoffDelay(attempt++, this.#deps.backoff, this.#deps.random);
      const message = describeExit(exit);
      const at = new Date().toISOString();
      this.#set(
        {
          state: 'backoff',
          pid: undefined,
          restarts: this.#status.restarts + 1,
          lastError: { message, at },
          nextStartAt: new Date(Date.now() + delay).toISOString(),
        },
        true,
      );
      this.#logger.error({ error: message, restartInMs: delay, restarts: this.#status.restarts }, 'sensor crashed; starting it again after a backoff');
      await sleep(delay, this.#stopping.signal);
    }
  }

  #spawn(config: JsonObject): SensorProcess {
    const { definition, packDir, modulePath } = this.sensor;
    const settings = this.#deps.process;
    return SensorProcess.start({
      modulePath,
      packDir,
      sensor: {
        ref: definition.ref,
        pack: definition.pack,
        name: definition.name,
        triggerTypes: definition.triggerTypes,
        ...(definition.pollInterval === undefined ? {} : { pollInterval: definition.pollInterval }),
      },
      config,
      env: settings.env,
      ...(settings.execPath === undefined ? {} : { execPath: settings.execPath }),
      ...(settings.execArgv === undefined ? {} : { execArgv: settings.execArgv }),
      heartbeatMs: settings.heartbeatMs,
      hangTimeoutMs: settings.hangTimeoutMs,
      logger: this.#logger,
      onReady: (info) => {
        this.#set({ state: 'running' }, true);
        this.#logger.info(info, 'sensor running');
      },
      onPollError: (error) => {
        const message = `poll failed: ${error.name === 'Error' ? '' : `${error.name}: `}${error.message}`;
        this.#set({ pollErrors: this.#status.pollErrors + 1, lastError: { message, at: new Date().toISOString() } });
        this.#logger.warn({ error: error.message, pollErrors: this.#status.pollErrors }, 'sensor poll failed');
      },
      onEmit: async (request) => {
        if (this.#stopping.signal.aborted) throw new ReflexError('SENSOR_STOPPING', `${definition.ref} is stopping; the event was not published`);
        try {
          const emitted = await this.#deps.gate.publish(definition, request);
          this.#set({ emitted: this.#status.emitted + 1, lastEmitAt: new Date().toISOString() });
          return emitted;
        } catch (err) {
          const json = toErrorJson(err);
          if (json.code === EVENT_INVALID) {
            this.#set({ refused: this.#status.refused + 1, lastError: { message: `event refused: ${json.message}`, at: new Date().toISOString() } });
            this.#logger.warn({ error: json.message, details: json.details }, 'sensor event refused');
          } else {
            this.#logger.warn({ err }, 'sensor event could not be published');
          }
          throw err;
        }
      },
      onKv: (request) => this.#deps.kv(definition.pack, request),
    });
  }
}
