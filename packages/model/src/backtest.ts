/**
 * Backtests, as data: replay stored events against a rule (a saved one, or a draft) and say what it
 * would have done. The simulation itself lives in @reflex/rules (`backtestRule`, pure); the API's
 * `POST /v1/rules/backtest` reads the events and hands them over. Nothing is executed or stored.
 */
import { ValidationError, type ErrorJson } from './errors.ts';
import type { JsonObject } from './json.ts';
import { parseDuration, type DecisionWindow } from './noise.ts';
import { ruleInputSchema, type RuleInput } from './rule.ts';
import { REF_PATTERN } from './refs.ts';

/**
 * What the rule would have done about one event (or, `kind: 'window'`, when one of its throttle
 * windows or alert groups would have fired):
 * - `fired`: an execution would have been requested, with `parameters`;
 * - `failed`: it matched but could not fire (a template, the action, or its parameters);
 * - `no_match`: the criteria did not hold (or could not be evaluated: `error`);
 * - `throttled`, `grouped`: noise control held it back (the window says which);
 * - `silenced`: a silence active at the event's time muted it.
 */
export const BACKTEST_OUTCOMES = ['fired', 'failed', 'no_match', 'throttled', 'grouped', 'silenced'] as const;
export type BacktestOutcome = (typeof BACKTEST_OUTCOMES)[number];

export const BACKTEST_SHOW = ['all', 'matched', 'fired'] as const;
export type BacktestShow = (typeof BACKTEST_SHOW)[number];

/** Events a backtest reads at most, whatever `limit` asks. */
export const BACKTEST_MAX_EVENTS = 50_000;
export const BACKTEST_DEFAULT_EVENTS = 10_000;
/** Entries a report lists at most (the counts cover every event). */
export const BACKTEST_MAX_ENTRIES = 1000;
export const BACKTEST_DEFAULT_ENTRIES = 100;

export interface BacktestEntry {
  /** `event`: the rule's decision about an event; `window`: a throttle window or alert group firing. */
  kind: 'event' | 'window';
  /** When the rule would have acted: the event's time, or when the window or group would have fired. */
  at: string;
  /** The event (for a window: the last event it holds, whose `payload` the templates see). */
  eventId: string;
  occurredAt: string;
  outcome: BacktestOutcome;
  reason: string;
  /** The action a firing would have run. */
  action?: string;
  /** Its rendered parameters (datastore secrets as ********). */
  parameters?: JsonObject;
  error?: ErrorJson;
  window?: DecisionWindow;
  silenceId?: string;
}

export interface BacktestReport {
  rule: string;
  /** True when the rule was given as a draft (not the saved one). */
  draft: boolean;
  enabled: boolean;
  triggerType: string;
  /** The time range asked for. */
  since: string;
  until: string;
  /** Events of the trigger type read (at most `limit`). */
  scanned: number;
  /** True when there were more events than `limit`: only the newest `scanned` were replayed, from `firstEventAt`. */
  limited: boolean;
  firstEventAt?: string;
  lastEventAt?: string;
  /** Events for the rule's trigger parameters (e.g. its webhook url): the ones it would have seen. */
  considered: number;
  /** Events whose criteria held. */
  matched: number;
  /** Executions that would have been requested (events and window firings). */
  wouldFire: number;
  counts: Record<BacktestOutcome, number>;
  /** The first entries (by `show`, at most `maxEntries`), oldest first. */
  entries: BacktestEntry[];
  /** Entries left out of `entries` by the cap. */
  omitted: number;
  /** Windows and groups still open at `until`, which would fire later. */
  pending: DecisionWindow[];
  /** What the simulation does not cover, and anything else worth knowing. */
  notes: string[];
}

/** Body of `POST /v1/rules/backtest`: `rule` (a saved rule's ref) or `draft` (a rule as POST /v1/rules takes it). */
export interface BacktestRequest {
  rule?: string;
  draft?: RuleInput;
  /** A duration back from now (`24h`, `90m`, `7d`) or an ISO time. Default `24h`. */
  since?: string;
  /** The same; default now. */
  until?: string;
  /** Most events read (newest first when there are more). Default 10 000, at most 50 000. */
  limit?: number;
  /** Which entries to list: every event considered (default), those whose criteria held, or firings only. */
  show?: BacktestShow;
  /** Entries listed at most. Default 100, at most 1000. */
  maxEntries?: number;
}

const { $id: _draftId, ...draftSchema } = ruleInputSchema;

export const backtestRequestSchema = {
  $id: 'reflex:backtest-request',
  type: 'object',
  additionalProperties: false,
  properties: {
    rule: { type: 'string', pattern: REF_PATTERN },
    draft: draftSchema,
    since: { type: 'string', minLength: 1, maxLength: 64 },
    until: { type: 'string', minLength: 1, maxLength: 64 },
    limit: { type: 'integer', minimum: 1, maximum: BACKTEST_MAX_EVENTS },
    show: { enum: BACKTEST_SHOW },
    maxEntries: { type: 'integer', minimum: 1, maximum: BACKTEST_MAX_ENTRIES },
  },
} as const;

/**
 * A point in time as people write it: a duration back from `nowMs` (`24h`, `90m`, `7d`, `1h30m`; at
 * most 30 days) or an ISO-8601 time (`2024-05-01T12:00:00Z`). Epoch ms; a ValidationError naming
 * `field` otherwise.
 */
export function timeOrAgo(value: string, field: string, nowMs: number): number {
  if (/^\d{4}-\d{2}-\d{2}/.test(value)) {
    const at = Date.parse(value);
    if (!Number.isNaN(at)) return at;
  } else {
    try {
      return nowMs - parseDuration(value, field);
    } catch {
      // reported below, with both spellings
    }
  }
  throw new ValidationError(`${field} is neither a duration nor a time`, [
    { field, message: `'${value.slice(0, 64)}' is neither a duration back from now (24h, 90m, 7d; at most 30d) nor an ISO time (2024-05-01T12:00:00Z)` },
  ]);
}
