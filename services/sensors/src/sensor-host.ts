/**
 * The process one pack sensor runs in, forked by the sensors service (sensor-process.ts). It waits
 * for a `start` message, imports the sensor module and either polls it (`poll(ctx)` every
 * `pollInterval` seconds, a throw counted, never fatal) or runs it (`run(ctx)`, until `ctx.signal`
 * aborts). What the sensor emits and what it reads or writes in the datastore goes to the service,
 * which checks and does it. Whatever the sensor does — throw, exit, hang, crash — happens in here.
 * Imports nothing but Node built-ins at run time.
 */
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { format, inspect } from 'node:util';
import type { JsonObject, JsonValue } from '@reflex/model';
import type { SensorContext, SensorKv } from '@reflex/sdk';
import type { HostError, HostMessage, LogLevel, ParentMessage, StartMessage } from './host-protocol.ts';

// Pack code imports `@reflex/sdk` wherever the pack lives (a folder outside this installation has no
// node_modules): the name resolves to this installation's SDK. (The nodejs runner's bootstrap does the same.)
try {
  const sdk = import.meta.resolve('@reflex/sdk');
  registerHooks({ resolve: (specifier, context, next) => (specifier === '@reflex/sdk' ? { url: sdk, shortCircuit: true } : next(specifier, context)) });
} catch {
  // No SDK next to the service: modules that import it fail to load, with Node's own message.
}

const DEFAULT_POLL_SECONDS = 60;
/** A poll that has not settled after this many intervals (at least a minute) is a hung sensor. */
const POLL_TIMEOUT_INTERVALS = 3;
const MIN_POLL_TIMEOUT_MS = 60_000;

const controller = new AbortController();
let started = false;
let nextId = 1;
const pending = new Map<number, { resolve: (value: JsonValue) => void; reject: (err: Error) => void }>();

function send(message: HostMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

function errorInfo(err: unknown): HostError {
  if (typeof err !== 'object' || err === null) return { name: 'Error', message: String(err) };
  const e = err as { name?: unknown; message?: unknown; code?: unknown };
  const info: HostError = { name: typeof e.name === 'string' ? e.name : 'Error', message: typeof e.message === 'string' ? e.message : String(err) };
  if (typeof e.code === 'string') info.code = e.code;
  return info;
}

function printError(err: unknown): void {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : inspect(err)}\n`);
}

/** Says why, then exits: the service restarts the sensor after a backoff. */
function fatal(phase: 'load' | 'run', err: unknown): void {
  printError(err);
  void send({ type: 'fatal', phase, error: errorInfo(err) }).finally(() => process.exit(1));
}

function request(message: HostMessage & { id: number }): Promise<JsonValue> {
  return new Promise((resolve, reject) => {
    pending.set(message.id, { resolve, reject });
    void send(message);
  });
}

/** Only JSON crosses to the service: a value that is not JSON is an error here, in the sensor. */
function json(value: unknown, what: string): JsonValue {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (err) {
    throw new TypeError(`${what} is not JSON: ${(err as Error).message}`);
  }
  if (text === undefined) throw new TypeError(`${what} is not JSON`);
  return JSON.parse(text) as JsonValue;
}

function logger(): SensorContext['logger'] {
  const line = (level: LogLevel, first: unknown, rest: unknown[]): void => {
    let obj: JsonObject | undefined;
    let msg: string;
    if (first instanceof Error) {
      obj = { err: { name: first.name, message: first.message, ...(first.stack === undefined ? {} : { stack: first.stack }) } };
      msg = format(...rest);
    } else if (typeof first === 'object' && first !== null) {
      try {
        obj = json(first, 'a log object') as JsonObject;
      } catch {
        obj = { value: inspect(first, { depth: 4, breakLength: Infinity }) };
      }
      msg = format(...rest);
    } else {
      msg = format(first, ...rest);
    }
    void send({ type: 'log', level, msg, ...(obj === undefined ? {} : { obj }) });
  };
  return {
    debug: (first, ...rest) => line('debug', first, rest),
    info: (first, ...rest) => line('info', first, rest),
    warn: (first, ...rest) => line('warn', first, rest),
    error: (first, ...rest) => line('error', first, rest),
  };
}

interface SensorModuleShape {
  triggerTypes?: Array<{ ref?: unknown }>;
  pollInterval?: unknown;
  poll?: (ctx: SensorContext) => unknown;
  run?: (ctx: SensorContext) => unknown;
}

function abortable(ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (controller.signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      controller.signal.removeEventListener('abort', done);
      resolve();
    }
    controller.signal.addEventListener('abort', done);
  });
}

async function pollLoop(sensor: SensorModuleShape & { poll: NonNullable<SensorModuleShape['poll']> }, ctx: SensorContext, intervalMs: number): Promise<void> {
  const timeoutMs = Math.max(MIN_POLL_TIMEOUT_MS, POLL_TIMEOUT_INTERVALS * intervalMs);
  while (!controller.signal.aborted) {
    const began = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<'hung'>((resolve) => {
      timer = setTimeout(() => resolve('hung'), timeoutMs);
    });
    try {
      const outcome = await Promise.race([Promise.resolve(sensor.poll(ctx)).then(() => 'done' as const), hung]);
      if (outcome === 'hung') {
        fatal('run', new Error(`a poll did not finish within ${Math.round(timeoutMs / 1000)} s`));
        return;
      }
    } catch (err) {
      if (!controller.signal.aborted) {
        printError(err);
        await send({ type: 'poll-error', error: errorInfo(err) });
      }
    } finally {
      clearTimeout(timer);
    }
    await abortable(Math.max(0, intervalMs - (Date.now() - began)));
  }
}

async function start(message: StartMessage): Promise<void> {
  let sensor: SensorModuleShape;
  try {
    const mod = (await import(pathToFileURL(message.modulePath).href)) as { default?: unknown };
    sensor = (mod.default ?? mod) as SensorModuleShape;
  } catch (err) {
    fatal('load', err);
    return;
  }
  const poll = typeof sensor?.poll === 'function';
  const run = typeof sensor?.run === 'function';
  if (poll === run) {
    fatal('load', new TypeError(poll ? 'the sensor has both poll and run: give it one' : 'the default export is not a sensor: it needs a poll or a run function (defineSensor)'));
    return;
  }
  const moduleDefault = sensor.triggerTypes?.[0]?.ref;
  const defaultType = typeof moduleDefault === 'string' ? moduleDefault : message.sensor.triggerTypes[0];
  const kv: SensorKv = {
    get: async (name) => await request({ type: 'kv', id: nextId++, op: 'get', name }),
    put: async (name, value, options) => {
      await request({ type: 'kv', id: nextId++, op: 'put', name, value: json(value, `the value of '${name}'`), ...(options?.ttlSeconds === undefined ? {} : { ttlSeconds: options.ttlSeconds }) });
    },
    delete: async (name) => (await request({ type: 'kv', id: nextId++, op: 'delete', name })) === true,
  };
  const ctx: SensorContext = {
    sensor: message.sensor.ref,
    pack: message.sensor.pack,
    packDir: message.packDir,
    logger: logger(),
    config: message.config,
    kv,
    signal: controller.signal,
    emit: async (payload, options) => {
      const triggerType = options?.type ?? defaultType;
      const answer = await request({
        type: 'emit',
        id: nextId++,
        payload: json(payload, 'the payload'),
        ...(triggerType === undefined ? {} : { triggerType }),
        ...(options?.triggerParameters === undefined ? {} : { triggerParameters: json(options.triggerParameters, 'the trigger parameters') as JsonObject }),
        ...(options?.traceId === undefined ? {} : { traceId: options.traceId }),
      });
      return answer as { eventId: string; traceId: string };
    },
  };

  if (run) {
    await send({ type: 'ready', mode: 'run' });
    try {
      await (sensor.run as (ctx: SensorContext) => unknown)(ctx);
    } catch (err) {
      if (!controller.signal.aborted) fatal('run', err);
      else process.exit(0);
      return;
    }
    if (!controller.signal.aborted) fatal('run', new Error('run() returned before the sensor was asked to stop'));
    else process.exit(0);
    return;
  }
  const seconds = message.sensor.pollInterval ?? (typeof sensor.pollInterval === 'number' && sensor.pollInterval > 0 ? sensor.pollInterval : DEFAULT_POLL_SECONDS);
  await send({ type: 'ready', mode: 'poll', pollInterval: seconds });
  await pollLoop(sensor as SensorModuleShape & { poll: NonNullable<SensorModuleShape['poll']> }, ctx, seconds * 1000);
  if (controller.signal.aborted) process.exit(0);
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'start' && !started) {
    started = true;
    setInterval(() => void send({ type: 'heartbeat' }), message.heartbeatMs);
    void start(message);
  } else if (message.type === 'stop' && !controller.signal.aborted) {
    controller.abort(new DOMException('the sensor is stopping', 'AbortError'));
    if (!started) process.exit(0);
  } else if (message.type === 'reply') {
    const waiting = pending.get(message.id);
    if (waiting === undefined) return;
    pending.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(Object.assign(new Error(message.error.message), { name: message.error.name, ...(message.error.code === undefined ? {} : { code: message.error.code }) }));
  }
});
// The service went away (stopped, crashed, killed): nobody takes what this sensor emits.
process.on('disconnect', () => process.exit(1));
process.on('uncaughtException', (err) => fatal('run', err));
process.on('unhandledRejection', (err) => fatal('run', err));
