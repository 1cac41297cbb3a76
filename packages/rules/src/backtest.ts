/**
 * Backtests: what a rule would have done about stored events, decided the way the rules engine
 * decides them — trigger parameters, criteria (`timediff` at the event's time), the silences active
 * at the event's time, throttle windows and alert groups folded with the engine's own pure
 * transitions over a state kept in memory (the event's time as the clock), windows and groups fired
 * when they fall due (as the scheduler would), and the parameters rendered and checked against the
 * action. Pure: nothing runs, nothing is stored.
 *
 * Not simulated: inhibitions (their sources may be events of any trigger type); datastore keys are
 * read as they are now, not as they were.
 */
import {
  BACKTEST_DEFAULT_ENTRIES,
  BACKTEST_OUTCOMES,
  eventContext,
  toErrorJson,
  validateUser,
  type Action,
  type BacktestEntry,
  type BacktestOutcome,
  type BacktestReport,
  type BacktestShow,
  type DecisionWindow,
  type ErrorJson,
  type EventContext,
  type JsonObject,
  type KvContext,
  type ReflexEvent,
  type Rule,
  type WindowMode,
} from '@reflex/model';
import { compileRule, type CompiledRule } from './compile.ts';
import { explainCriteria } from './explain.ts';
import { claimGroup, finishGroup, foldGroup, isResolution } from './noise/group.ts';
import { silenceFor, type CompiledSilence } from './noise/silences.ts';
import type { CompiledNoise } from './noise/spec.ts';
import { iso, identityOf, noiseKey, type CurrentState, type NoiseOutcome, type PendingFiring, type StateChange } from './noise/state.ts';
import { claimOnceAfter, finishOnceAfter, foldOnceAfter, foldOnceWithin, foldThreshold } from './noise/throttle.ts';
import { triggerParametersMatch } from './trigger.ts';

export interface BacktestInput {
  /** The rule, saved or draft; compiled here (a ValidationError when it does not compile). */
  rule: Rule;
  /** True when `rule` is a draft (said so in the report). */
  draft?: boolean;
  /** Events of the rule's trigger type, **oldest first**. Events of other types or trigger instances are counted as scanned only. */
  events: Iterable<ReflexEvent>;
  /** The action the rule runs; null when it is not registered (every firing fails, as in the engine). */
  action: Action | null;
  /** The datastore keys the rule's templates read (secrets as ********). */
  kv?: KvContext;
  /** Silences (compiled); each applies to the events that occurred while it was active. */
  silences?: readonly CompiledSilence[];
  /** The range asked for (ISO). Windows and groups due by `until` fire; later ones are `pending`. */
  since: string;
  until: string;
  /** The caller stopped reading at its limit: older events in the range were left out. */
  limited?: boolean;
  /** Which entries to list. Default `all`. */
  show?: BacktestShow;
  /** Entries listed at most. Default 100. */
  maxEntries?: number;
}

/** A window firing's lease: irrelevant in a simulation (it is finished at once), but the claim wants one. */
const LEASE_MS = 1;
/** Window firings in one pass at most: a guard against a state that never stops being due. */
/** Window and group firings one backtest may simulate in all (a 1 ms group interval over a month would not end). */
const MAX_FLUSHES = 10_000;

interface Stored {
  owner: string;
  data: JsonObject;
  dueMs?: number;
  expiresMs?: number;
}

/** The noise state of one rule, in memory, with the store's semantics (expired states read as absent). */
class MemoryState {
  readonly states = new Map<string, Stored>();

  update<T>(key: string, nowMs: number, apply: (current: CurrentState | null) => StateChange<T>): T {
    let stored = this.states.get(key);
    if (stored?.expiresMs !== undefined && stored.expiresMs <= nowMs) {
      this.states.delete(key);
      stored = undefined;
    }
    const change = apply(stored === undefined ? null : { owner: stored.owner, data: stored.data });
    if (change.write === null) this.states.delete(key);
    else if (change.write !== undefined) {
      const next: Stored = { owner: change.write.owner, data: change.write.data };
      if (change.write.dueAt !== undefined) next.dueMs = Date.parse(change.write.dueAt);
      if (change.write.expiresAt !== undefined) next.expiresMs = Date.parse(change.write.expiresAt);
      this.states.set(key, next);
    }
    return change.result;
  }

  /** The state due first, at or before `t`. */
  nextDue(t: number): [string, number] | undefined {
    let next: [string, number] | undefined;
    for (const [key, stored] of this.states) {
      const due = stored.dueMs;
      if (due !== undefined && due <= t && (next === undefined || due < next[1])) next = [key, due];
    }
    return next;
  }
}

function emptyCounts(): Record<BacktestOutcome, number> {
  const counts = {} as Record<BacktestOutcome, number>;
  for (const outcome of BACKTEST_OUTCOMES) counts[outcome] = 0;
  return counts;
}

function listed(show: BacktestShow, outcome: BacktestOutcome): boolean {
  if (show === 'all') return true;
  if (show === 'matched') return outcome !== 'no_match';
  return outcome === 'fired' || outcome === 'failed';
}

/** A window or group still open at the end, as a decision window. */
function pendingWindow(stored: Stored): DecisionWindow {
  const data = stored.data;
  const current = data['current'] as JsonObject | undefined;
  const alerts = data['alerts'];
  const id = (data['id'] ?? current?.['id'] ?? '') as string;
  const count = Array.isArray(alerts) ? alerts.length : (current?.['count'] as number | undefined);
  return {
    id,
    mode: data['mode'] as WindowMode,
    key: (data['key'] ?? '') as string,
    ...(stored.dueMs === undefined ? {} : { dueAt: iso(stored.dueMs) }),
    ...(count === undefined ? {} : { count }),
  };
}

interface Firing {
  outcome: 'fired' | 'failed';
  reason?: string;
  parameters?: JsonObject;
  error?: ErrorJson;
}

/**
 * Replays `events` against the rule and says what it would have done: counts by outcome, the first
 * entries (event decisions and window firings, oldest first), and the windows still open at the end.
 */
export function backtestRule(input: BacktestInput): BacktestReport {
  const { rule, action } = input;
  const compiled: CompiledRule = compileRule(rule);
  const noise: CompiledNoise | undefined = compiled.noise;
  const owner = compiled.ref;
  const show = input.show ?? 'all';
  const maxEntries = input.maxEntries ?? BACKTEST_DEFAULT_ENTRIES;
  const untilMs = Date.parse(input.until);
  const silences = input.silences ?? [];
  const memory = new MemoryState();
  const scheduled = noise !== undefined && (noise.kind === 'group' || noise.mode === 'once_after');

  const report: BacktestReport = {
    rule: rule.ref,
    draft: input.draft === true,
    enabled: rule.enabled,
    triggerType: rule.trigger.type,
    since: input.since,
    until: input.until,
    scanned: 0,
    limited: input.limited === true,
    considered: 0,
    matched: 0,
    wouldFire: 0,
    counts: emptyCounts(),
    entries: [],
    omitted: 0,
    pending: [],
    notes: [],
  };

  /** Counts an entry; lists it while there is room (`make` runs only then). */
  const record = (outcome: BacktestOutcome, make: () => BacktestEntry): void => {
    report.counts[outcome] += 1;
    if (!listed(show, outcome)) return;
    if (report.entries.length >= maxEntries) {
      report.omitted += 1;
      return;
    }
    report.entries.push(make());
  };

  /** What the engine would do to fire: render the parameters (with noise control's context) and check them against the action. */
  const fire = (event: ReflexEvent, extra: JsonObject | undefined): Firing => {
    if (action === null) return { outcome: 'failed', error: { name: 'NotFoundError', code: 'NOT_FOUND', message: `action '${rule.action.ref}' is not registered` } };
    if (!action.enabled) return { outcome: 'failed', error: { name: 'ConflictError', code: 'ACTION_DISABLED', message: `action '${action.ref}' is disabled` } };
    const ctx: EventContext = { ...eventContext(event), ...extra };
    if (input.kv !== undefined) ctx.kv = input.kv;
    let parameters: JsonObject | undefined;
    try {
      parameters = compiled.renderParameters(ctx);
      validateUser(action.parametersSchema, parameters, 'parameters', `parameters of ${action.ref}`);
      return { outcome: 'fired', parameters };
    } catch (err) {
      return { outcome: 'failed', error: toErrorJson(err), ...(parameters === undefined ? {} : { parameters }) };
    }
  };

  const firingEntry = (base: Omit<BacktestEntry, 'outcome' | 'reason'>, reason: string, firing: Firing): BacktestEntry => ({
    ...base,
    outcome: firing.outcome,
    reason: firing.outcome === 'fired' ? reason : `matched (${reason}) but could not fire: ${firing.error?.message ?? 'unknown error'}`,
    action: rule.action.ref,
    ...(firing.parameters === undefined ? {} : { parameters: firing.parameters }),
    ...(firing.error === undefined ? {} : { error: firing.error }),
  });

  let flushes = 0;
  let flushLimited = false;
  /** Fires every window and group due at or before `t`, each at its due time, as the scheduler would. */
  const flushDue = (t: number): void => {
    if (!scheduled || noise === undefined) return;
    for (;;) {
      if (flushes >= MAX_FLUSHES) {
        flushLimited = true;
        return;
      }
      const next = memory.nextDue(t);
      if (next === undefined) return;
      flushes += 1;
      const [key, at] = next;
      const pending: PendingFiring | undefined = memory.update(key, at, (current) =>
        noise.kind === 'group' ? claimGroup(noise, owner, current, at, LEASE_MS) : claimOnceAfter(owner, current, at, LEASE_MS),
      );
      if (pending === undefined) continue;
      memory.update(key, at, (current) => (noise.kind === 'group' ? finishGroup(owner, current, pending) : finishOnceAfter(owner, current, pending)));
      const firing = fire(pending.event, pending.context);
      if (firing.outcome === 'fired') report.wouldFire += 1;
      const reason =
        pending.mode === 'group'
          ? `group ${pending.key || '(one group)'} notified (#${pending.seq}) with ${pending.events} event(s)`
          : `once_after window of ${pending.key || 'the rule'} closed with ${pending.events} event(s)`;
      record(firing.outcome, () =>
        firingEntry(
          {
            kind: 'window',
            at: iso(at),
            eventId: pending.event.id,
            occurredAt: pending.event.occurredAt,
            window: { id: pending.windowId, mode: pending.mode, key: pending.key, seq: pending.seq, count: pending.events },
          },
          reason,
          firing,
        ),
      );
    }
  };

  const decideNoise = (ctx: EventContext, event: ReflexEvent, resolution: boolean, nowMs: number): NoiseOutcome => {
    const spec = noise!;
    const ident = identityOf(spec.groupBy, spec.labelNames, ctx);
    if (spec.kind === 'group') {
      const alert = identityOf(spec.alertKey, spec.alertNames, ctx);
      return memory.update(noiseKey(owner, 'group', ident.key), nowMs, (c) => foldGroup(spec, ident, alert, resolution, owner, c, event, nowMs));
    }
    const key = noiseKey(owner, spec.mode, ident.key);
    switch (spec.mode) {
      case 'once_within':
        return memory.update(key, nowMs, (c) => foldOnceWithin(spec, ident, owner, c, event, nowMs));
      case 'threshold':
        return memory.update(key, nowMs, (c) => foldThreshold(spec, ident, owner, c, event, nowMs));
      case 'once_after':
        return memory.update(key, nowMs, (c) => foldOnceAfter(spec, ident, owner, c, event, nowMs));
    }
  };

  for (const event of input.events) {
    report.scanned += 1;
    const eventMs = Date.parse(event.occurredAt);
    report.firstEventAt ??= event.occurredAt;
    report.lastEventAt = event.occurredAt;
    flushDue(eventMs);
    if (event.type !== compiled.triggerType || !triggerParametersMatch(compiled.triggerParameters, event.triggerParameters)) continue;
    report.considered += 1;
    const ctx = eventContext(event);
    const base = { kind: 'event' as const, at: event.occurredAt, eventId: event.id, occurredAt: event.occurredAt };
    const clock = { now: () => eventMs };
    const result = compiled.evaluate(ctx, clock);
    if (!result.matched) {
      record('no_match', () => {
        if (result.error !== undefined) return { ...base, outcome: 'no_match', reason: `the criteria could not be evaluated: ${result.error.message}`, error: result.error };
        const failing = explainCriteria(rule.criteria, ctx, clock)
          .filter((c) => !c.matched)
          .map((c) => c.field);
        const reason = failing.length > 0 && failing[0] !== 'criteria' ? `not met: ${failing.join(', ')}` : 'the criteria do not match';
        return { ...base, outcome: 'no_match', reason };
      });
      continue;
    }
    report.matched += 1;
    const resolution = noise?.kind === 'group' && isResolution(noise, ctx);
    if (!resolution) {
      const silence = silenceFor(silences, { ...ctx, rule: { ref: rule.ref, pack: rule.pack, name: rule.name } }, eventMs);
      if (silence !== undefined) {
        record('silenced', () => ({
          ...base,
          outcome: 'silenced',
          reason: `silenced by ${silence.id} (until ${silence.endsAt}, by ${silence.createdBy}: ${silence.comment})`,
          silenceId: silence.id,
        }));
        continue;
      }
    }
    let reason = 'matched';
    let extra: JsonObject | undefined;
    let window: DecisionWindow | undefined;
    if (noise !== undefined) {
      const outcome = decideNoise(ctx, event, resolution, eventMs);
      window = outcome.window;
      if (outcome.outcome !== 'fired') {
        const held = outcome;
        record(outcome.outcome, () => ({ ...base, outcome: held.outcome as 'throttled' | 'grouped', reason: held.reason, window: held.window }));
        continue;
      }
      reason = outcome.reason;
      extra = outcome.context;
    }
    const firing = fire(event, extra);
    if (firing.outcome === 'fired') report.wouldFire += 1;
    record(firing.outcome, () => firingEntry({ ...base, ...(window === undefined ? {} : { window }) }, reason, firing));
  }
  flushDue(untilMs);
  for (const stored of memory.states.values()) {
    if (stored.dueMs !== undefined && report.pending.length < maxEntries) report.pending.push(pendingWindow(stored));
  }

  const notes = report.notes;
  if (!rule.enabled) notes.push('the rule is disabled: it fires nothing today; this is what it would do if it were enabled');
  if (action === null) notes.push(`action '${rule.action.ref}' is not registered: every firing would fail`);
  if (flushLimited) notes.push(`stopped simulating windows and groups after ${MAX_FLUSHES} firings: later ones are not shown or counted`);
  if (report.limited) notes.push(`more events than the limit: only the newest ${report.scanned} were replayed (from ${report.firstEventAt ?? input.since})`);
  if (compiled.kv.system.length > 0 || compiled.kv.pack.length > 0) notes.push('datastore keys are read as they are now (secrets as ********), not as they were');
  if (scheduled) notes.push(`windows and groups fire at their due time, as the scheduler would; those still open at ${input.until} are listed in pending`);
  notes.push('inhibitions are not simulated: an event an inhibition muted shows what the rule would have done without it');
  return report;
}
