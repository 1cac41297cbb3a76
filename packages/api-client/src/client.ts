/**
 * The Reflex API as typed calls: one `ReflexClient` per base URL and key, methods grouped by
 * resource. Every failure is an ApiError (the API's `{ error: { code, message, details } }`, or
 * `UNREACHABLE` when nothing answered). `fetch` is injectable for tests.
 */
import type {
  Action,
  ApiKeyView,
  BacktestReport,
  BacktestRequest,
  Enforcement,
  Execution,
  ExecutionStatus,
  Grant,
  JsonObject,
  JsonValue,
  KeyInput,
  KeyView,
  Pack,
  ReflexEvent,
  Rule,
  RuleInput,
  SensorView,
  TriggerType,
  WebhookAuthInput,
  WebhookAuthView,
} from '@reflex/model';
import { ApiError, errorOf } from './errors.ts';
import { SseParser } from './sse.ts';

export interface ClientOptions {
  /** Base URL of the API, e.g. `http://127.0.0.1:8180`. */
  url: string;
  /** Sent as `Authorization: Bearer <key>`. */
  apiKey?: string;
  fetch?: typeof fetch;
  /** Per-request time limit for ordinary calls (not streams). Default 30 s. */
  timeoutMs?: number;
}

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export type PageQuery = {
  limit?: number;
  cursor?: string;
};

export interface PackFileError {
  file: string;
  line?: number;
  column?: number;
  field: string;
  message: string;
}

export type PackRegistration =
  | { dir: string; pack: string | null; ok: true; result: { pack: string; triggerTypes: number; actions: number; rules: number; removed: Record<string, number>; configFile?: string } }
  | { dir: string; pack: string | null; ok: false; errors: PackFileError[] };

/** What `DELETE /v1/packs/:name` removed. */
export interface PackUnregistration {
  pack: string;
  removed: { triggerTypes: number; actions: number; rules: number };
}

/** A pack's configuration values as the API shows them (secrets masked). */
export interface PackConfigView {
  pack: string;
  values: JsonObject;
}

export interface PackDetail extends Pack {
  triggerTypes: TriggerType[];
  actions: Action[];
  rules: Rule[];
}

export interface WhoAmI {
  kind: string;
  id?: string;
  name: string;
  role: string;
  grants: Grant[];
}

/** One item of an execution's live output. */
export type OutputEvent =
  | { kind: 'output'; seq: number; stream: 'stdout' | 'stderr'; text: string; at: string }
  | { kind: 'end'; status: ExecutionStatus };

type Query = Record<string, string | number | boolean | undefined>;

function queryString(query: Query | undefined): string {
  if (query === undefined) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, String(value));
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}

const seg = (value: string): string => encodeURIComponent(value);
/** A webhook url (`github/push`) as a path: each segment encoded, the slashes kept. */
const urlPath = (url: string): string => url.split('/').map(seg).join('/');

export class ReflexClient {
  readonly url: string;
  readonly #apiKey: string | undefined;
  readonly #fetch: typeof fetch;
  readonly #timeoutMs: number;

  constructor(options: ClientOptions) {
    this.url = options.url.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#fetch = options.fetch ?? fetch;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.#apiKey === undefined ? {} : { authorization: `Bearer ${this.#apiKey}` }), ...extra };
  }

  async #send(method: string, path: string, init: { body?: unknown; headers?: Record<string, string>; signal?: AbortSignal }): Promise<Response> {
    const headers = this.#headers(init.body === undefined ? init.headers : { 'content-type': 'application/json', ...init.headers });
    try {
      return await this.#fetch(`${this.url}${path}`, {
        method,
        headers,
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
        ...(init.signal === undefined ? {} : { signal: init.signal }),
      });
    } catch (err) {
      if (init.signal?.aborted === true && (err as Error).name !== 'TimeoutError') throw err;
      const timedOut = (err as Error).name === 'TimeoutError';
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const reason = timedOut ? 'no answer in time' : (cause?.code ?? cause?.message ?? (err as Error).message);
      throw new ApiError(0, 'UNREACHABLE', `cannot reach the Reflex API at ${this.url} (${reason})`, [], { cause: err });
    }
  }

  /** One JSON call; the parsed body (null for 204). */
  async request<T>(method: string, path: string, options: { query?: Query; body?: unknown } = {}): Promise<T> {
    const res = await this.#send(method, `${path}${queryString(options.query)}`, { body: options.body, signal: AbortSignal.timeout(this.#timeoutMs) });
    const text = await res.text();
    if (!res.ok) throw errorOf(res.status, text);
    if (text === '') return null as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new ApiError(res.status, 'BAD_ANSWER', `the API answered ${res.status} with a body that is not JSON`, [], { cause: err });
    }
  }

  readonly packs = {
    list: () => this.request<{ items: Pack[] }>('GET', '/v1/packs'),
    get: (name: string) => this.request<PackDetail>('GET', `/v1/packs/${seg(name)}`),
    register: (packs?: string[]) => this.request<{ results: PackRegistration[] }>('POST', '/v1/packs/register', { body: packs === undefined ? {} : { packs } }),
    /** Unregisters a pack (409 PACK_IN_USE while other packs depend on it). */
    delete: (name: string) => this.request<PackUnregistration>('DELETE', `/v1/packs/${seg(name)}`),
    /** The pack's configuration values, secrets as ********. */
    config: (name: string) => this.request<PackConfigView>('GET', `/v1/packs/${seg(name)}/config`),
    /** Replaces the pack's configuration values (a secret sent as ******** keeps its stored value). */
    setConfig: (name: string, values: JsonObject) => this.request<PackConfigView>('PUT', `/v1/packs/${seg(name)}/config`, { body: values }),
  };

  readonly rules = {
    list: (filter: { pack?: string; enabled?: boolean; triggerType?: string } = {}) => this.request<{ items: Rule[] }>('GET', '/v1/rules', { query: filter }),
    get: (ref: string) => this.request<Rule>('GET', `/v1/rules/${seg(ref)}`),
    create: (rule: RuleInput) => this.request<Rule>('POST', '/v1/rules', { body: rule }),
    put: (ref: string, rule: RuleInput) => this.request<Rule>('PUT', `/v1/rules/${seg(ref)}`, { body: rule }),
    delete: (ref: string) => this.request<null>('DELETE', `/v1/rules/${seg(ref)}`),
    setEnabled: (ref: string, enabled: boolean) => this.request<Rule>('PATCH', `/v1/rules/${seg(ref)}`, { body: { enabled } }),
    /** What a saved rule (`rule`) or a draft (`draft`) would have done about stored events; nothing runs. */
    backtest: (request: BacktestRequest) => this.request<BacktestReport>('POST', '/v1/rules/backtest', { body: request }),
  };

  readonly actions = {
    list: (filter: { pack?: string } = {}) => this.request<{ items: Action[] }>('GET', '/v1/actions', { query: filter }),
    get: (ref: string) => this.request<Action>('GET', `/v1/actions/${seg(ref)}`),
  };

  readonly triggerTypes = {
    list: (filter: { pack?: string } = {}) => this.request<{ items: TriggerType[] }>('GET', '/v1/triggertypes', { query: filter }),
    get: (ref: string) => this.request<TriggerType>('GET', `/v1/triggertypes/${seg(ref)}`),
  };

  readonly sensors = {
    list: (filter: { pack?: string } = {}) => this.request<{ items: SensorView[] }>('GET', '/v1/sensors', { query: filter }),
    get: (ref: string) => this.request<SensorView>('GET', `/v1/sensors/${seg(ref)}`),
  };

  readonly events = {
    list: (filter: { type?: string; since?: string; until?: string } & PageQuery = {}) => this.request<Page<ReflexEvent>>('GET', '/v1/events', { query: filter }),
    get: (id: string) => this.request<ReflexEvent>('GET', `/v1/events/${seg(id)}`),
    send: (type: string, payload: JsonValue, triggerParameters?: JsonObject) =>
      this.request<{ eventId: string; traceId: string }>('POST', '/v1/events', {
        body: { type, payload, ...(triggerParameters === undefined ? {} : { triggerParameters }) },
      }),
  };

  readonly enforcements = {
    ofEvent: (eventId: string) => this.request<{ items: Enforcement[] }>('GET', '/v1/enforcements', { query: { event: eventId } }),
  };

  readonly executions = {
    list: (filter: { action?: string; status?: ExecutionStatus; rule?: string; event?: string } & PageQuery = {}) =>
      this.request<Page<Execution>>('GET', '/v1/executions', { query: filter }),
    get: (id: string) => this.request<Execution>('GET', `/v1/executions/${seg(id)}`),
    run: (action: string, parameters: JsonObject = {}) => this.request<Execution>('POST', '/v1/executions', { body: { action, parameters } }),
    cancel: (id: string) => this.request<Execution>('DELETE', `/v1/executions/${seg(id)}`),
    rerun: (id: string, parameters?: JsonObject) =>
      this.request<Execution>('POST', `/v1/executions/${seg(id)}/re-run`, { body: parameters === undefined ? {} : { parameters } }),
    /**
     * The execution's output as it happens (Server-Sent Events), from after `after`, then an `end`
     * with its final status. A dropped connection is resumed where it stopped (Last-Event-ID).
     */
    follow: (id: string, options: { after?: number; signal?: AbortSignal; retries?: number } = {}) => this.#follow(id, options),
  };

  readonly keys = {
    list: (options: { scope?: string; prefix?: string; decrypt?: boolean; limit?: number } = {}) =>
      this.request<{ items: KeyView[] }>('GET', '/v1/keys', { query: { ...options, decrypt: options.decrypt === true ? true : undefined } }),
    get: (scope: string, name: string, options: { decrypt?: boolean } = {}) =>
      this.request<KeyView>('GET', `/v1/keys/${seg(scope)}/${seg(name)}`, { query: { decrypt: options.decrypt === true ? true : undefined } }),
    set: (scope: string, name: string, input: KeyInput) => this.request<KeyView>('PUT', `/v1/keys/${seg(scope)}/${seg(name)}`, { body: input }),
    delete: (scope: string, name: string) => this.request<null>('DELETE', `/v1/keys/${seg(scope)}/${seg(name)}`),
  };

  readonly apiKeys = {
    create: (input: { name: string; role: string; expiresAt?: string }) => this.request<ApiKeyView & { key: string }>('POST', '/v1/apikeys', { body: input }),
    list: (options: { includeRevoked?: boolean } = {}) => this.request<{ items: ApiKeyView[] }>('GET', '/v1/apikeys', { query: options }),
    revoke: (id: string) => this.request<ApiKeyView>('DELETE', `/v1/apikeys/${seg(id)}`),
  };

  readonly auth = {
    whoami: () => this.request<WhoAmI>('GET', '/v1/auth/whoami'),
  };

  /** How webhook urls authenticate their senders (`github/push`: the path under /v1/webhooks/). Secrets are write-only. */
  readonly webhookAuth = {
    list: () => this.request<{ items: WebhookAuthView[] }>('GET', '/v1/webhook-auth'),
    get: (url: string) => this.request<WebhookAuthView>('GET', `/v1/webhook-auth/${urlPath(url)}`),
    set: (url: string, input: WebhookAuthInput) => this.request<WebhookAuthView>('PUT', `/v1/webhook-auth/${urlPath(url)}`, { body: input }),
    delete: (url: string) => this.request<null>('DELETE', `/v1/webhook-auth/${urlPath(url)}`),
  };

  async *#follow(id: string, options: { after?: number; signal?: AbortSignal; retries?: number }): AsyncGenerator<OutputEvent> {
    let lastSeq = options.after ?? 0;
    let retries = options.retries ?? 5;
    for (;;) {
      const headers: Record<string, string> = { accept: 'text/event-stream' };
      if (lastSeq > 0) headers['last-event-id'] = String(lastSeq);
      let ended = false;
      let res: Response;
      try {
        res = await this.#send('GET', `/v1/executions/${seg(id)}/output${queryString({ after: lastSeq || undefined })}`, {
          headers,
          ...(options.signal === undefined ? {} : { signal: options.signal }),
        });
      } catch (err) {
        // The API went away for a moment (a restart, a proxy): try again below, a few times.
        if (!(err instanceof ApiError) || retries-- <= 0) throw err;
        await new Promise((r) => setTimeout(r, 500));
        continue;
      }
      if (!res.ok) throw errorOf(res.status, await res.text());
      if (res.body === null) throw new ApiError(res.status, 'BAD_ANSWER', 'the output stream has no body');
      const parser = new SseParser();
      const decoder = new TextDecoder();
      try {
        for await (const chunk of res.body) {
          for (const sse of parser.push(decoder.decode(chunk as Uint8Array, { stream: true }))) {
            const data = JSON.parse(sse.data) as { text?: string; at?: string; status?: ExecutionStatus };
            if (sse.event === 'end') {
              ended = true;
              yield { kind: 'end', status: data.status ?? 'failed' };
              return;
            }
            if (sse.event === 'stdout' || sse.event === 'stderr') {
              const seq = Number(sse.id);
              if (Number.isInteger(seq) && seq <= lastSeq) continue; // replayed after a reconnect
              if (Number.isInteger(seq)) lastSeq = seq;
              yield { kind: 'output', seq, stream: sse.event, text: data.text ?? '', at: data.at ?? '' };
            }
          }
        }
      } catch (err) {
        if (options.signal?.aborted === true) throw err;
        // The connection dropped: resume below.
      }
      if (ended) return;
      if (retries-- <= 0) throw new ApiError(0, 'UNREACHABLE', `the output stream of execution '${id}' ended before the execution did`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}
