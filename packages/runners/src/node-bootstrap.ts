/**
 * The process a `nodejs` action runs in, forked by the runner (see node.ts). It waits for one
 * `run` message, imports the action module, calls its default export, sends back one `result`
 * or `error` message and exits. `ctx.kv` calls go to the runner as `kv` messages and wait for the
 * `kv-reply` of the same id. Whatever the action does — throw late, call process.exit, crash —
 * happens in here, not in the runner. Imports nothing but Node built-ins at run time (the type
 * imports are erased), so it starts fast and does not depend on where Reflex is installed.
 */
import { registerHooks } from 'node:module';
import { pathToFileURL } from 'node:url';
import { format, inspect } from 'node:util';
import type { JsonValue } from '@reflex/model';
import type { ActionContext, ActionErrorInfo, ActionKv, ActionLogger, ChildMessage, KvMessage, ParentMessage } from './node-protocol.ts';

// Pack code imports `@reflex/sdk` wherever the pack lives (a folder outside this installation has no
// node_modules): the name resolves to this installation's SDK. (The sensors' host does the same.)
try {
  const sdk = import.meta.resolve('@reflex/sdk');
  registerHooks({ resolve: (specifier, context, next) => (specifier === '@reflex/sdk' ? { url: sdk, shortCircuit: true } : next(specifier, context)) });
} catch {
  // No SDK next to the runner: modules that import it fail to load, with Node's own message.
}

const controller = new AbortController();
let reported = false;
let nextKvId = 1;
const pendingKv = new Map<number, { resolve: (value: JsonValue) => void; reject: (err: Error) => void }>();

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (process.send === undefined || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, {}, () => resolve());
  });
}

/** Sends the one answer (later ones are dropped: an action that throws after returning changes nothing) and exits. */
function report(message: ChildMessage): void {
  if (reported) return;
  reported = true;
  void send(message).finally(() => process.exit(message.type === 'result' ? 0 : 1));
}

function errorInfo(err: unknown): ActionErrorInfo {
  if (typeof err !== 'object' || err === null) return { name: 'Error', message: String(err) };
  const e = err as { name?: unknown; message?: unknown; code?: unknown; retriable?: unknown; retryAfterMs?: unknown };
  const info: ActionErrorInfo = {
    name: typeof e.name === 'string' ? e.name : 'Error',
    message: typeof e.message === 'string' ? e.message : String(err),
  };
  if (typeof e.code === 'string' && /^[A-Z][A-Z0-9_]{0,63}$/.test(e.code)) info.code = e.code;
  if (typeof e.retriable === 'boolean') info.retriable = e.retriable;
  if (typeof e.retryAfterMs === 'number' && Number.isFinite(e.retryAfterMs) && e.retryAfterMs >= 0) info.retryAfterMs = e.retryAfterMs;
  return info;
}

function printError(err: unknown): void {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : inspect(err)}\n`);
}

function logger(): ActionLogger {
  const line = (level: string, stream: NodeJS.WriteStream, first: unknown, rest: unknown[]): void => {
    let text: string;
    if (typeof first === 'object' && first !== null) {
      const extra = first instanceof Error ? (first.stack ?? first.message) : inspect(first, { depth: 4, breakLength: Infinity });
      text = [format(...rest), extra].filter((s) => s !== '').join(' ');
    } else {
      text = format(first, ...rest);
    }
    stream.write(`${level}: ${text}\n`);
  };
  return {
    debug: (first, ...rest) => line('debug', process.stdout, first, rest),
    info: (first, ...rest) => line('info', process.stdout, first, rest),
    warn: (first, ...rest) => line('warn', process.stderr, first, rest),
    error: (first, ...rest) => line('error', process.stderr, first, rest),
  };
}

/** Only JSON crosses to the runner: a value that is not JSON is an error here, in the action. */
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

function kvCall(request: KvMessage): Promise<JsonValue> {
  if (typeof request.name !== 'string') return Promise.reject(new TypeError(`a datastore key name must be a string, not ${typeof request.name}`));
  return new Promise((resolve, reject) => {
    pendingKv.set(request.id, { resolve, reject });
    void send(request);
  });
}

function kv(): ActionKv {
  return {
    get: async (name) => await kvCall({ type: 'kv', id: nextKvId++, op: 'get', name }),
    put: async (name, value, options) => {
      const ttl = options?.ttlSeconds;
      await kvCall({ type: 'kv', id: nextKvId++, op: 'put', name, value: json(value, `the value of '${name}'`), ...(ttl === undefined ? {} : { ttlSeconds: ttl }) });
    },
    delete: async (name) => (await kvCall({ type: 'kv', id: nextKvId++, op: 'delete', name })) === true,
  };
}

async function run(message: Extract<ParentMessage, { type: 'run' }>): Promise<void> {
  let action: unknown;
  try {
    const mod = (await import(pathToFileURL(message.modulePath).href)) as { default?: unknown };
    action = mod.default;
  } catch (err) {
    printError(err);
    report({ type: 'error', phase: 'load', error: errorInfo(err) });
    return;
  }
  if (typeof action !== 'function') {
    report({ type: 'error', phase: 'load', error: { name: 'TypeError', message: 'the module has no default export function' } });
    return;
  }
  const ctx: ActionContext = {
    logger: logger(),
    config: message.config,
    signal: controller.signal,
    kv: kv(),
    ...message.context,
  };
  let value: unknown;
  try {
    value = await (action as (params: unknown, ctx: ActionContext) => unknown)(message.parameters, ctx);
  } catch (err) {
    printError(err);
    report({ type: 'error', phase: 'run', error: errorInfo(err) });
    return;
  }
  let json: unknown;
  try {
    const text = JSON.stringify(value);
    json = text === undefined ? null : JSON.parse(text);
  } catch (err) {
    report({ type: 'error', phase: 'result', error: { name: 'TypeError', message: `the action returned a value that is not JSON: ${(err as Error).message}` } });
    return;
  }
  report({ type: 'result', value: json as JsonValue });
}

process.on('message', (message: ParentMessage) => {
  if (message.type === 'run') void run(message);
  else if (message.type === 'kv-reply') {
    const waiting = pendingKv.get(message.id);
    if (waiting === undefined) return;
    pendingKv.delete(message.id);
    if (message.ok) waiting.resolve(message.value);
    else waiting.reject(Object.assign(new Error(message.error.message), { name: message.error.name, code: message.error.code }));
  } else if (message.type === 'abort' && !controller.signal.aborted) {
    const reason = message.reason === 'timeout' ? new DOMException('the execution timed out', 'TimeoutError') : new DOMException('the execution was canceled', 'AbortError');
    controller.abort(reason);
  }
});
// The runner went away: nobody is waiting for the answer.
process.on('disconnect', () => process.exit(1));
process.on('uncaughtException', (err) => {
  printError(err);
  report({ type: 'error', phase: 'run', error: errorInfo(err) });
});
process.on('unhandledRejection', (err) => {
  printError(err);
  report({ type: 'error', phase: 'run', error: errorInfo(err) });
});
