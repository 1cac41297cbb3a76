/**
 * A rule's noise control (`throttle` or `group`), checked and prepared once with the rule:
 * durations parsed, paths checked, the resolution criteria compiled.
 */
import {
  GROUP_DEFAULTS,
  parseDuration,
  ValidationError,
  type ErrorDetail,
  type GroupSpec,
  type JsonValue,
  type Rule,
  type ThrottleMode,
  type ThrottleSpec,
} from '@reflex/model';
import { compileCriteria, criteriaProblems, type CompiledCriteria } from '../criteria.ts';
import { forbiddenSegment } from '../paths.ts';

export interface CompiledThrottle {
  kind: 'throttle';
  mode: ThrottleMode;
  windowMs: number;
  groupBy: readonly string[];
  /** The name each group_by value has in `labels` (the last segment of its path). */
  labelNames: readonly string[];
  /** `threshold` mode: events within the window that fire; 1 otherwise. */
  threshold: number;
}

export interface CompiledGroup {
  kind: 'group';
  groupBy: readonly string[];
  labelNames: readonly string[];
  groupWaitMs: number;
  groupIntervalMs: number;
  repeatIntervalMs: number;
  /** Paths that tell alerts apart; empty: one alert per group. */
  alertKey: readonly string[];
  alertNames: readonly string[];
  resolved: CompiledCriteria | undefined;
  notifyResolved: boolean;
  resolveTimeoutMs: number | undefined;
}

export type CompiledNoise = CompiledThrottle | CompiledGroup;

/** The name a path's value gets in `labels`: its last segment. */
export function labelName(path: string): string {
  const segments = path.split('.');
  return segments[segments.length - 1] ?? path;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Problems of a list of paths: literal, clean, and (when `named`) ending in distinct names. */
export function pathProblems(paths: unknown, field: string, named: boolean): ErrorDetail[] {
  if (paths === undefined) return [];
  if (!Array.isArray(paths)) return [{ field, message: 'must be a list of paths' }];
  const details: ErrorDetail[] = [];
  const names = new Map<string, number>();
  paths.forEach((path: unknown, i) => {
    if (typeof path !== 'string' || path === '' || path.length > 500) {
      details.push({ field: `${field}.${i}`, message: 'must be a path into the event, like "payload.alert.labels.alertname"' });
      return;
    }
    const bad = forbiddenSegment(path);
    if (bad !== undefined) details.push({ field: `${field}.${i}`, message: `path '${path}' touches '${bad}', which is not allowed` });
    if (!named) return;
    const name = labelName(path);
    const first = names.get(name);
    if (first !== undefined) {
      details.push({ field: `${field}.${i}`, message: `'${path}' and '${String(paths[first])}' both end in '${name}'; each label needs its own name` });
    } else names.set(name, i);
  });
  return details;
}

function durationProblems(value: unknown, field: string, required: boolean): ErrorDetail[] {
  if (value === undefined) return required ? [{ field, message: 'is required' }] : [];
  try {
    parseDuration(value, field);
    return [];
  } catch (err) {
    if (err instanceof ValidationError) return err.details ?? [{ field, message: err.message }];
    throw err;
  }
}

function throttleProblems(spec: unknown): ErrorDetail[] {
  if (!isObject(spec)) return [{ field: 'throttle', message: 'must be an object' }];
  const details: ErrorDetail[] = [];
  const mode = spec['mode'];
  if (mode !== 'once_within' && mode !== 'once_after' && mode !== 'threshold') {
    details.push({ field: 'throttle.mode', message: 'must be one of "once_within", "once_after", "threshold"' });
  }
  details.push(...durationProblems(spec['window'], 'throttle.window', true));
  details.push(...pathProblems(spec['groupBy'], 'throttle.groupBy', true));
  const threshold = spec['threshold'];
  if (mode === 'threshold') {
    if (typeof threshold !== 'number' || !Number.isInteger(threshold) || threshold < 1 || threshold > 1000) {
      details.push({ field: 'throttle.threshold', message: 'is required in threshold mode: an integer from 1 to 1000' });
    }
  } else if (threshold !== undefined) {
    details.push({ field: 'throttle.threshold', message: 'is only used in threshold mode' });
  }
  return details;
}

function groupProblems(spec: unknown): ErrorDetail[] {
  if (!isObject(spec)) return [{ field: 'group', message: 'must be an object' }];
  return [
    ...pathProblems(spec['groupBy'], 'group.groupBy', true),
    ...pathProblems(spec['alertKey'], 'group.alertKey', false),
    ...durationProblems(spec['groupWait'], 'group.groupWait', false),
    ...durationProblems(spec['groupInterval'], 'group.groupInterval', false),
    ...durationProblems(spec['repeatInterval'], 'group.repeatInterval', false),
    ...durationProblems(spec['resolveTimeout'], 'group.resolveTimeout', false),
    ...(spec['notifyResolved'] === undefined || typeof spec['notifyResolved'] === 'boolean'
      ? []
      : [{ field: 'group.notifyResolved', message: 'must be true or false' }]),
    ...criteriaProblems(spec['resolved'], 'group.resolved'),
  ];
}

/** Every problem of a rule's `throttle` and `group`, fields rooted at `throttle` / `group`. */
export function noiseProblems(rule: Pick<Rule, 'throttle' | 'group'>): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  if (rule.throttle !== undefined && rule.group !== undefined) {
    details.push({ field: 'group', message: 'a rule throttles or groups, not both: remove throttle or group' });
  }
  if (rule.throttle !== undefined) details.push(...throttleProblems(rule.throttle));
  if (rule.group !== undefined) details.push(...groupProblems(rule.group));
  return details;
}

function compileThrottle(spec: ThrottleSpec): CompiledThrottle {
  const groupBy = spec.groupBy ?? [];
  return {
    kind: 'throttle',
    mode: spec.mode,
    windowMs: parseDuration(spec.window, 'throttle.window'),
    groupBy,
    labelNames: groupBy.map(labelName),
    threshold: spec.mode === 'threshold' ? (spec.threshold ?? 1) : 1,
  };
}

function compileGroup(spec: GroupSpec): CompiledGroup {
  const groupBy = spec.groupBy ?? [];
  const alertKey = spec.alertKey ?? [];
  return {
    kind: 'group',
    groupBy,
    labelNames: groupBy.map(labelName),
    groupWaitMs: parseDuration(spec.groupWait ?? GROUP_DEFAULTS.groupWait, 'group.groupWait'),
    groupIntervalMs: parseDuration(spec.groupInterval ?? GROUP_DEFAULTS.groupInterval, 'group.groupInterval'),
    repeatIntervalMs: parseDuration(spec.repeatInterval ?? GROUP_DEFAULTS.repeatInterval, 'group.repeatInterval'),
    alertKey,
    alertNames: alertKey.map(labelName),
    resolved: spec.resolved === undefined || spec.resolved === null ? undefined : compileCriteria(spec.resolved as JsonValue, 'group.resolved'),
    notifyResolved: spec.notifyResolved ?? GROUP_DEFAULTS.notifyResolved,
    resolveTimeoutMs: spec.resolveTimeout === undefined ? undefined : parseDuration(spec.resolveTimeout, 'group.resolveTimeout'),
  };
}

/** The prepared noise control of a rule whose `noiseProblems` are empty; undefined when it has none. */
export function compileNoise(rule: Pick<Rule, 'throttle' | 'group'>): CompiledNoise | undefined {
  if (rule.throttle !== undefined) return compileThrottle(rule.throttle);
  if (rule.group !== undefined) return compileGroup(rule.group);
  return undefined;
}
