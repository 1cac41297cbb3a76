/**
 * Noise control, as data: how a rule throttles or groups what it fires (`throttle`, `group`),
 * silences and inhibitions that mute events for a while, and the decision recorded for every
 * (event, rule) pair. The semantics live in @reflex/rules (pure) and the rules engine; this file
 * holds the shapes, their schemas and the duration syntax shared by the API and the pack loader.
 */
import { ValidationError } from './errors.ts';
import type { ErrorJson } from './errors.ts';
import type { JsonValue } from './json.ts';

/** `500ms`, `30s`, `5m`, `4h`, `1d`, `1h30m`; or a number of seconds. */
export type Duration = string | number;

/** One or more `<integer><unit>` parts, units `ms`, `s`, `m`, `h`, `d`. */
export const DURATION_PATTERN = '^([0-9]{1,9}(ms|s|m|h|d))+$';
/** The longest duration anything in noise control may last: 30 days. */
export const MAX_DURATION_MS = 30 * 24 * 3600 * 1000;

const durationRe = new RegExp(DURATION_PATTERN);
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** A duration as milliseconds; ValidationError naming `field` when it is not one, not positive or too long. */
export function parseDuration(value: unknown, field = 'duration'): number {
  let ms = Number.NaN;
  if (typeof value === 'number') ms = Math.round(value * 1000);
  else if (typeof value === 'string' && durationRe.test(value)) {
    ms = 0;
    for (const [, amount, unit] of value.matchAll(/([0-9]+)(ms|s|m|h|d)/g)) ms += Number(amount) * (UNIT_MS[unit ?? 's'] ?? 1000);
  }
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_DURATION_MS) {
    throw new ValidationError(`${field} is not a duration`, [
      { field, message: `must be a duration like "500ms", "30s", "5m", "1h30m" or a number of seconds, above 0 and at most 30 days` },
    ]);
  }
  return ms;
}

/**
 * A duration's shape; its value (`parseDuration`) is checked with the rest of what it belongs to,
 * so that a bad one gets one clear message instead of one per alternative of a schema.
 */
export const durationSchema = {
  type: ['number', 'string'],
  maxLength: 64,
  description: 'a duration: "500ms", "30s", "5m", "1h30m", "1d", or a number of seconds',
} as const;

/** A path into the event context, as `var` reads it: `payload.alert.labels.alertname`. */
const PATH_SCHEMA = { type: 'string', minLength: 1, maxLength: 500 } as const;
const PATHS_SCHEMA = { type: 'array', maxItems: 20, items: PATH_SCHEMA } as const;

export const THROTTLE_MODES = ['once_within', 'once_after', 'threshold'] as const;
export type ThrottleMode = (typeof THROTTLE_MODES)[number];

/**
 * Per-rule throttling, per value of `groupBy` (like Ansible EDA's `throttle`):
 * - `once_within`: fire on the first event, suppress the rest until `window` has passed;
 * - `once_after`: collect events, fire once when `window` closes (templates see `events`);
 * - `threshold`: fire when `threshold` events arrived within `window` (sliding), then stay quiet for `window`.
 */
export interface ThrottleSpec {
  mode: ThrottleMode;
  window: Duration;
  /** Paths into the event context; one window per distinct combination of values. Default: one window. */
  groupBy?: string[];
  /** `threshold` mode only (and required there): how many events within the window fire. */
  threshold?: number;
}

/** The most events `threshold` may count. */
export const MAX_THRESHOLD = 1000;

export const throttleSpecSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['mode', 'window'],
  properties: {
    mode: { enum: THROTTLE_MODES },
    window: durationSchema,
    groupBy: PATHS_SCHEMA,
    threshold: { type: 'integer', minimum: 1, maximum: MAX_THRESHOLD },
  },
} as const;

/**
 * Alertmanager-style grouping: events with the same `groupBy` values form a group; the first one
 * waits `groupWait`, then the rule fires once with the whole group; changes fire at most every
 * `groupInterval`; an unchanged group fires again after `repeatInterval`; when every alert of the
 * group is resolved it fires once more (if `notifyResolved`) and the group closes.
 */
export interface GroupSpec {
  groupBy?: string[];
  /** Default 30s. */
  groupWait?: Duration;
  /** Default 5m. */
  groupInterval?: Duration;
  /** Default 4h. */
  repeatInterval?: Duration;
  /** Paths that tell alerts of a group apart (`payload.alert.fingerprint`). Default: one alert per group. */
  alertKey?: string[];
  /** JSON-logic: which of the rule's events say their alert is resolved. Default: none do. */
  resolved?: JsonValue;
  /** Fire once more when the group's alerts are resolved. Default true. */
  notifyResolved?: boolean;
  /** An alert not seen for this long counts as resolved. Default: never. */
  resolveTimeout?: Duration;
}

export const GROUP_DEFAULTS = Object.freeze({ groupWait: '30s', groupInterval: '5m', repeatInterval: '4h', notifyResolved: true });

export const groupSpecSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    groupBy: PATHS_SCHEMA,
    groupWait: durationSchema,
    groupInterval: durationSchema,
    repeatInterval: durationSchema,
    alertKey: PATHS_SCHEMA,
    resolved: {},
    notifyResolved: { type: 'boolean' },
    resolveTimeout: durationSchema,
  },
} as const;

// --- silences ---

export const MATCHER_OPS = ['=', '!=', '=~', '!~'] as const;
export type MatcherOp = (typeof MATCHER_OPS)[number];

/**
 * One condition of a silence: the value at `path` (in `{ payload, event, rule }`, read as text;
 * a missing value reads as "") compared with `value`: equal, not equal, or a whole match of an RE2
 * regular expression (`=~`), or not (`!~`).
 */
export interface Matcher {
  path: string;
  op: MatcherOp;
  value: string;
}

export interface Silence {
  /** ULID. */
  id: string;
  /** Every matcher must hold for an event to be silenced. */
  matchers: Matcher[];
  startsAt: string;
  endsAt: string;
  createdBy: string;
  comment: string;
  createdAt: string;
  updatedAt: string;
}

export type SilenceStatus = 'pending' | 'active' | 'expired';

export function silenceStatus(silence: Pick<Silence, 'startsAt' | 'endsAt'>, nowMs: number): SilenceStatus {
  if (Date.parse(silence.endsAt) <= nowMs) return 'expired';
  return Date.parse(silence.startsAt) > nowMs ? 'pending' : 'active';
}

/** Body of `POST /v1/silences`: `endsAt` or `duration` (from `startsAt`, default now). */
export interface SilenceInput {
  matchers: Matcher[];
  startsAt?: string;
  endsAt?: string;
  duration?: Duration;
  comment: string;
  /** Default: the name of the API key that creates it. */
  createdBy?: string;
}

const matcherSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['path', 'op', 'value'],
  properties: { path: PATH_SCHEMA, op: { enum: MATCHER_OPS }, value: { type: 'string', maxLength: 1000 } },
} as const;

export const silenceInputSchema = {
  $id: 'reflex:silence-input',
  type: 'object',
  additionalProperties: false,
  required: ['matchers', 'comment'],
  properties: {
    matchers: { type: 'array', minItems: 1, maxItems: 50, items: matcherSchema },
    startsAt: { type: 'string', format: 'date-time' },
    endsAt: { type: 'string', format: 'date-time' },
    duration: durationSchema,
    comment: { type: 'string', minLength: 1, maxLength: 4096 },
    createdBy: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

// --- inhibitions ---

/**
 * While an event matching `source` is active — seen within `duration`, and not followed by one
 * matching `source` and `resolved` — events matching `target` whose values at every `equal` path
 * are the same as the source's are inhibited (e.g. "datacenter down" mutes "host down" in that
 * datacenter). An event that matches `source` is never inhibited by the same inhibition.
 */
export interface Inhibition {
  /** ULID. */
  id: string;
  name?: string;
  source: JsonValue;
  target: JsonValue;
  equal: string[];
  duration: Duration;
  resolved?: JsonValue;
  comment?: string;
  createdBy: string;
  createdAt: string;
}

export interface InhibitionInput {
  name?: string;
  source: JsonValue;
  target: JsonValue;
  equal?: string[];
  duration: Duration;
  resolved?: JsonValue;
  comment?: string;
  createdBy?: string;
}

export const inhibitionInputSchema = {
  $id: 'reflex:inhibition-input',
  type: 'object',
  additionalProperties: false,
  required: ['source', 'target', 'duration'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 200 },
    source: {},
    target: {},
    equal: PATHS_SCHEMA,
    duration: durationSchema,
    resolved: {},
    comment: { type: 'string', maxLength: 4096 },
    createdBy: { type: 'string', minLength: 1, maxLength: 200 },
  },
} as const;

// --- decisions ---

/**
 * What a rule decided about an event. Recorded for every rule whose criteria matched the event
 * (and for a rule whose criteria could not be evaluated: `not_matched`, with the error):
 * - `fired`: an execution was requested (now, or when the window/group the event was in fired);
 * - `failed`: it matched but could not fire (template, action or parameter error);
 * - `throttled`: a throttle window suppressed it (`once_within` repeat, `threshold` not reached or quiet period);
 * - `grouped`: it joined a `once_after` window or an alert group, which fires later;
 * - `silenced`, `inhibited`: a silence or an inhibition muted it.
 */
export const DECISION_OUTCOMES = ['fired', 'failed', 'throttled', 'grouped', 'silenced', 'inhibited', 'not_matched'] as const;
export type DecisionOutcome = (typeof DECISION_OUTCOMES)[number];

export type WindowMode = ThrottleMode | 'group';

/** The throttle window or alert group a decision is about. */
export interface DecisionWindow {
  /** The window's (or group's) instance id: the id of the event that opened it. */
  id: string;
  mode: WindowMode;
  /** The group key: `alertname="HighCPU",cluster="prod"` (empty when the rule has no group_by). */
  key: string;
  /** Firings of a group so far (1 = the first notification). */
  seq?: number;
  /** When the window closes or the group fires next. */
  dueAt?: string;
  /** Events counted in the window (threshold, once_after). */
  count?: number;
}

export interface Decision {
  /** Derived: one per (event, rule); a window's firing has its own (see `windowDecisionIdFor`). */
  id: string;
  eventId: string;
  rule: string;
  outcome: DecisionOutcome;
  /** Why, in words. */
  reason: string;
  at: string;
  traceId: string;
  enforcementId?: string;
  executionId?: string;
  window?: DecisionWindow;
  silenceId?: string;
  inhibition?: { id: string; sourceEventId: string };
  error?: ErrorJson;
}
