/**
 * POST /v1/rules/backtest: replay stored events against a rule — a saved one (`rule`) or a draft
 * (`draft`) — and answer what it would have done. The simulation is @reflex/rules' `backtestRule`
 * (pure, in memory); this route only reads: the rule, its action, the datastore keys its templates
 * name (secrets as ********), the silences of the range, and the events of the rule's trigger type.
 * Nothing is executed and nothing is written: no enforcement, execution, decision, noise state, nor
 * an audit entry (it is a POST only because a draft rides in the body).
 *
 * Permission: `rules:read` on the rule, `events:read` (unscoped: it reads events of every instance
 * of the trigger type), and `keys:read` on each datastore key the templates read — what a viewer holds.
 */
import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  BACKTEST_DEFAULT_EVENTS,
  backtestRequestSchema,
  kvScopeOfPack,
  makeRef,
  NotFoundError,
  SECRET_MASK,
  timeOrAgo,
  ValidationError,
  type BacktestRequest,
  type KvContext,
  type ReflexEvent,
  type Rule,
} from '@reflex/model';
import { backtestRule, compileRule, compileSilence, type CompiledSilence, type KvReferences } from '@reflex/rules';
import type { Store } from '@reflex/store';
import type { ScopeCheck } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { checkRule, ruleFromInput } from '../rule-check.ts';
import { errorResponse } from './schemas.ts';

/** Events per store page while reading (the store's largest page). */
const PAGE = 1000;

/** The datastore keys a rule's templates read; none when it does not compile (the handler says why). */
function kvRefsOf(rule: Rule): KvReferences {
  try {
    return compileRule(rule).kv;
  } catch {
    return { system: [], pack: [] };
  }
}

/** The rule a backtest is about: the saved one (404 when absent), or the draft, checked like a rule being saved. */
async function ruleOf(deps: RouteDeps, body: BacktestRequest, now: string): Promise<Rule> {
  if (body.rule !== undefined) {
    const saved = await deps.store.rules.get(body.rule);
    if (saved === null) throw new NotFoundError('rule', body.rule);
    return saved;
  }
  const rule = ruleFromInput(body.draft!, now, null);
  await checkRule(deps, rule, 'body.draft');
  return rule;
}

/** The keys the rule's templates read, as they are now; secrets masked (a backtest never opens them). */
async function kvOf(store: Store, rule: Rule, refs: KvReferences): Promise<KvContext | undefined> {
  if (refs.system.length === 0 && refs.pack.length === 0) return undefined;
  const kv: KvContext = { system: {}, pack: {} };
  const load = async (scope: string, name: string, into: KvContext['system']): Promise<void> => {
    const entry = await store.keys.get(scope, name);
    if (entry !== null) into[name] = entry.secret === true ? SECRET_MASK : entry.value;
  };
  await Promise.all([...refs.system.map((n) => load('system', n, kv.system)), ...refs.pack.map((n) => load(kvScopeOfPack(rule.pack), n, kv.pack))]);
  return kv;
}

/** The silences that overlap the range, compiled (one that does not compile is left out, as the engine does). */
async function silencesOf(store: Store, sinceMs: number, untilMs: number): Promise<CompiledSilence[]> {
  const out: CompiledSilence[] = [];
  for (const silence of await store.silences.list()) {
    if (Date.parse(silence.endsAt) <= sinceMs || Date.parse(silence.startsAt) >= untilMs) continue;
    try {
      out.push(compileSilence(silence));
    } catch {
      // The engine ignores it too (and logs it when it loads it).
    }
  }
  return out;
}

/** A backtest holds its events in memory: beyond this many bytes of them (as JSON), older events are left out. */
const MAX_EVENT_BYTES = 64 * 1024 * 1024;
/** The longest range a backtest replays (events are kept 7 days by default). */
const MAX_RANGE_MS = 31 * 24 * 3600 * 1000;

/**
 * The newest `limit` events of a type in the range (and at most MAX_EVENT_BYTES of them), oldest
 * first; `limited` when older ones were left out.
 */
async function eventsOf(store: Store, type: string, since: string, until: string, limit: number): Promise<{ events: ReflexEvent[]; limited: boolean }> {
  const newestFirst: ReflexEvent[] = [];
  let bytes = 0;
  let cursor: string | undefined;
  for (;;) {
    const want = limit - newestFirst.length;
    if (bytes > MAX_EVENT_BYTES) return { events: newestFirst.reverse(), limited: true };
    if (want <= 0) {
      const more = await store.events.list({ type, since, until }, { limit: 1, ...(cursor === undefined ? {} : { cursor }) });
      return { events: newestFirst.reverse(), limited: more.items.length > 0 };
    }
    const page = await store.events.list({ type, since, until }, { limit: Math.min(PAGE, want), ...(cursor === undefined ? {} : { cursor }) });
    for (const event of page.items.slice(0, want)) {
      newestFirst.push(event);
      bytes += JSON.stringify(event.payload).length;
    }
    if (page.nextCursor === undefined || page.items.length === 0) return { events: newestFirst.reverse(), limited: false };
    cursor = page.nextCursor;
  }
}

export const ruleBacktestRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  /** rules:read on the rule, events:read unscoped, keys:read on each key its templates read. */
  const scope = async (request: FastifyRequest): Promise<ScopeCheck[]> => {
    const body = request.body as BacktestRequest;
    const checks: ScopeCheck[] = [{ permission: 'events:read' }];
    let rule: Rule | null = null;
    if (body.rule !== undefined) {
      checks.push({ permission: 'rules:read', ref: body.rule });
      rule = await deps.store.rules.get(body.rule);
    } else if (body.draft !== undefined) {
      checks.push({ permission: 'rules:read', ref: makeRef(body.draft.pack, body.draft.name) });
      rule = ruleFromInput(body.draft, new Date().toISOString(), null);
    } else checks.push({ permission: 'rules:read' });
    if (rule !== null) {
      const refs = kvRefsOf(rule);
      if (refs.system.length > 0) checks.push({ permission: 'keys:read' });
      for (const name of refs.pack) checks.push({ permission: 'keys:read', ref: `${rule.pack}.${name}` });
    }
    return checks;
  };

  app.post<{ Body: BacktestRequest }>(
    '/v1/rules/backtest',
    {
      config: { permission: 'rules:read', scope },
      schema: {
        tags: ['rules'],
        summary:
          'Replay stored events against a saved rule (rule) or a draft (draft) and say what it would have done: criteria, silences, throttle windows and groups simulated in memory; nothing runs, nothing is written',
        body: backtestRequestSchema,
        response: { 400: errorResponse, 404: errorResponse },
      },
    },
    async (request) => {
      const body = request.body;
      if ((body.rule === undefined) === (body.draft === undefined)) {
        throw new ValidationError('give rule (a saved rule’s ref) or draft (a rule), not both', [{ field: 'body.rule', message: 'give exactly one of rule and draft' }]);
      }
      const nowMs = Date.now();
      const sinceMs = timeOrAgo(body.since ?? '24h', 'body.since', nowMs);
      // Nothing happened after now: a later `until` is now.
      const untilMs = body.until === undefined ? nowMs : Math.min(nowMs, timeOrAgo(body.until, 'body.until', nowMs));
      if (untilMs <= sinceMs) throw new ValidationError('until must be after since', [{ field: 'body.until', message: 'must be after since (and since before now)' }]);
      if (untilMs - sinceMs > MAX_RANGE_MS) {
        throw new ValidationError('the range is too long', [{ field: 'body.since', message: 'since and until may be at most 31 days apart' }]);
      }
      const since = new Date(sinceMs).toISOString();
      const until = new Date(untilMs).toISOString();

      const rule = await ruleOf(deps, body, new Date(nowMs).toISOString());
      const [action, kv, silences, read] = await Promise.all([
        deps.store.actions.get(rule.action.ref),
        kvOf(deps.store, rule, kvRefsOf(rule)),
        silencesOf(deps.store, sinceMs, untilMs),
        eventsOf(deps.store, rule.trigger.type, since, until, body.limit ?? BACKTEST_DEFAULT_EVENTS),
      ]);
      return backtestRule({
        rule,
        draft: body.draft !== undefined,
        events: read.events,
        limited: read.limited,
        action,
        silences,
        since,
        until,
        ...(kv === undefined ? {} : { kv }),
        ...(body.show === undefined ? {} : { show: body.show }),
        ...(body.maxEntries === undefined ? {} : { maxEntries: body.maxEntries }),
      });
    },
  );
};
