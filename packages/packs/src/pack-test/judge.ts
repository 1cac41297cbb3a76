/**
 * Did a case's expectations hold? Compares what the rules engine did about the case's events (its
 * decisions, and the executions it requested, read back from the store) with what the case expects,
 * and says precisely what differs: which rule fired that should not have, which did not and why (its
 * decision, or why its trigger or criteria did not match), which parameter differs (path, expected,
 * actual). Pure: the harness runs the engine and hands over what it observed.
 */
import type { Decision, DecisionOutcome, JsonObject, JsonValue } from '@reflex/model';
import type { ExpectedChat, PackTestCase } from './fixture.ts';

/** One event the engine handled, with what each rule decided about it. */
export interface ObservedEvent {
  id: string;
  type: string;
  /** Which step of the case sent it (`event`, `events.2`); a split webhook body sends several. */
  step: string;
  /** Decisions of the event path (fired, failed, throttled, grouped, silenced, inhibited, not_matched). */
  decisions: Decision[];
}

/** An execution the engine requested (as stored). */
export interface ObservedExecution {
  id: string;
  action: string;
  rule?: string;
  eventId?: string;
  parameters: JsonObject;
  /** Requested later by an alert group or throttle window (after an `advance` step), not at once by an event. */
  later: boolean;
}

export interface CaseObservation {
  events: ObservedEvent[];
  executions: ObservedExecution[];
  /**
   * Why `rule` made no decision about `event` (its trigger type, trigger parameters or criteria did
   * not match, or it is disabled), in words; undefined when the rule does not exist.
   */
  explain(rule: string, event: ObservedEvent): string | undefined;
}

export type FailureKind = 'unexpected_fire' | 'missing_fire' | 'could_not_fire' | 'actions' | 'action' | 'parameter' | 'chat' | 'decisions';

export interface CaseFailure {
  kind: FailureKind;
  message: string;
  /** Where the difference is: `actions.0.parameters.cmd`, `chat.1.text`. */
  path?: string;
  expected?: JsonValue;
  actual?: JsonValue;
}

export interface CaseDecisionView {
  /** The step that sent the event. */
  step: string;
  event: string;
  rule: string;
  outcome: DecisionOutcome;
  reason: string;
}

export interface CaseResult {
  case: string;
  file: string;
  description?: string;
  /** passed: every expectation holds; failed: some do not; error: the case could not run (see `errors`). */
  status: 'passed' | 'failed' | 'error';
  /** Rules that fired at once, in the order they did. */
  fired: string[];
  decisions: CaseDecisionView[];
  /** Executions requested, in order. */
  actions: Array<{ action: string; rule?: string; parameters: JsonObject; later: boolean }>;
  failures: CaseFailure[];
  /** Why the case could not run (file:line of the case), when `status` is error. */
  errors?: Array<{ file: string; line?: number; field: string; message: string }>;
}

export interface Difference {
  path: string;
  expected: JsonValue;
  /** undefined: absent. */
  actual: JsonValue | undefined;
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function at(base: string, key: string | number): string {
  return base === '' ? String(key) : `${base}.${key}`;
}

/**
 * Where `actual` does not hold `expected` as a deep partial: objects need only the keys written
 * (recursively); lists must have the same length, item by item; anything else must be equal.
 */
export function partialDifferences(expected: JsonValue, actual: JsonValue | undefined, path = ''): Difference[] {
  if (isObject(expected)) {
    if (!isObject(actual)) return [{ path, expected, actual }];
    return Object.entries(expected).flatMap(([key, value]) => partialDifferences(value, Object.hasOwn(actual, key) ? actual[key] : undefined, at(path, key)));
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual)) return [{ path, expected, actual }];
    if (actual.length !== expected.length) return [{ path, expected, actual }];
    return expected.flatMap((value, i) => partialDifferences(value, actual[i], at(path, i)));
  }
  return Object.is(expected, actual) || (expected === 0 && actual === 0) ? [] : [{ path, expected, actual }];
}

/** A value in a message: JSON, cut when long; `(absent)` for undefined. */
export function shown(value: JsonValue | undefined, max = 120): string {
  if (value === undefined) return '(absent)';
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

function counts(list: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const item of list) out.set(item, (out.get(item) ?? 0) + 1);
  return out;
}

/** A decision's reason, with every field its error names (a parameter the action refuses). */
function reasonOf(d: Decision): string {
  const details = d.error?.details ?? [];
  return details.length <= 1 ? d.reason : `${d.reason} (${details.map((x) => `${x.field} ${x.message}`).join('; ')})`;
}

const LATER: ReadonlySet<DecisionOutcome> = new Set(['grouped', 'throttled']);

/** Why a rule that `fire` lists did not fire at once: its decisions, else why it did not match. */
function whyNotFired(rule: string, observed: CaseObservation): string {
  const decided = observed.events.flatMap((e) => e.decisions.filter((d) => d.rule === rule && d.outcome !== 'fired').map((d) => ({ e, d })));
  if (decided.length > 0) {
    const parts = decided.map(({ e, d }) => `${d.outcome} (${e.step}: ${reasonOf(d)})`);
    const later = decided.some(({ d }) => LATER.has(d.outcome));
    return `${parts.join('; ')}${later ? ' — noise control: `fire` lists only what fires at once; check later firings with `advance` steps and `actions`/`chat`, or the outcome with `decisions`' : ''}`;
  }
  const reasons = observed.events.map((e) => ({ e, why: observed.explain(rule, e) }));
  if (reasons.every((r) => r.why === undefined)) return `no rule ${rule} is registered`;
  const distinct = new Set(reasons.map((r) => r.why));
  if (distinct.size === 1) return `${reasons[0]?.why ?? 'no decision'}${reasons.length > 1 ? ` (all ${reasons.length} events)` : ''}`;
  return reasons.map(({ e, why }) => `${e.step} (${e.type}): ${why ?? 'no decision'}`).join('; ');
}

function compareFire(expected: readonly string[], fired: readonly string[], observed: CaseObservation, failures: CaseFailure[]): void {
  const want = counts(expected);
  const got = counts(fired);
  for (const [rule, n] of got) {
    const extra = n - (want.get(rule) ?? 0);
    if (extra <= 0) continue;
    const reasons = observed.events.flatMap((e) => e.decisions.filter((d) => d.rule === rule && d.outcome === 'fired').map((d) => `${e.step}: ${d.reason}`));
    failures.push({
      kind: 'unexpected_fire',
      path: 'fire',
      message: `${rule} fired${n > 1 ? ` ${n} times` : ''} but \`fire\` ${want.has(rule) ? `lists it ${want.get(rule)} time(s)` : 'does not list it'} (${reasons.join('; ')})`,
      expected: expected as JsonValue,
      actual: fired as JsonValue,
    });
  }
  for (const [rule, n] of want) {
    const missing = n - (got.get(rule) ?? 0);
    if (missing <= 0) continue;
    const what = got.has(rule) ? `fired ${got.get(rule)} time(s), not ${n}` : 'did not fire';
    failures.push({ kind: 'missing_fire', path: 'fire', message: `${rule} ${what}: ${whyNotFired(rule, observed)}`, expected: expected as JsonValue, actual: fired as JsonValue });
  }
}

function describeAction(a: { action: string; rule?: string }): string {
  return a.rule === undefined ? a.action : `${a.action} (by ${a.rule})`;
}

function compareActions(testCase: PackTestCase, executions: readonly ObservedExecution[], failures: CaseFailure[]): void {
  const expected = testCase.expect.actions;
  if (expected === undefined) return;
  if (expected.length !== executions.length) {
    failures.push({
      kind: 'actions',
      path: 'actions',
      message: `expected ${plural(expected.length, 'action')} (${expected.map((a) => a.action).join(', ') || 'none'}), got ${executions.length} (${executions.map(describeAction).join(', ') || 'none'})`,
      expected: expected.map((a) => a.action),
      actual: executions.map((e) => e.action),
    });
  }
  expected.forEach((want, i) => {
    const got = executions[i];
    if (got === undefined) return;
    const path = `actions.${i}`;
    if (got.action !== want.action) {
      failures.push({ kind: 'action', path: `${path}.action`, message: `${path}.action: expected ${want.action}, got ${describeAction(got)}`, expected: want.action, actual: got.action });
      return;
    }
    if (want.rule !== undefined && got.rule !== want.rule) {
      failures.push({ kind: 'action', path: `${path}.rule`, message: `${path}.rule: expected ${want.rule}, got ${got.rule ?? '(no rule)'}`, expected: want.rule, actual: got.rule ?? null });
    }
    if (want.parameters === undefined) return;
    for (const d of partialDifferences(want.parameters, got.parameters, `${path}.parameters`)) {
      failures.push({
        kind: 'parameter',
        path: d.path,
        message: `${d.path}: expected ${shown(d.expected)}, got ${shown(d.actual)}`,
        expected: d.expected,
        ...(d.actual === undefined ? {} : { actual: d.actual }),
      });
    }
  });
}

function compareChatOne(want: ExpectedChat, got: ObservedExecution, path: string, failures: CaseFailure[]): void {
  const p = got.parameters;
  const text = typeof p['text'] === 'string' ? p['text'] : undefined;
  const diff = (field: string, expected: JsonValue, actual: JsonValue | undefined, message?: string): void => {
    failures.push({ kind: 'chat', path: `${path}.${field}`, message: message ?? `${path}.${field}: expected ${shown(expected)}, got ${shown(actual)}`, expected, ...(actual === undefined ? {} : { actual }) });
  };
  if (want.target !== undefined) {
    const target = typeof p['target'] === 'string' ? p['target'] : null;
    if (target !== want.target) diff('target', want.target, target, `${path}.target: expected ${want.target ?? '(the default target)'}, got ${target ?? '(the default target)'}`);
  }
  if (want.text !== undefined && text !== want.text) diff('text', want.text, text);
  if (want.textContains !== undefined && (text === undefined || !text.includes(want.textContains))) {
    diff('text_contains', want.textContains, text, `${path}.text: expected it to contain ${shown(want.textContains)}, got ${shown(text)}`);
  }
  if (want.title !== undefined && p['title'] !== want.title) diff('title', want.title, p['title']);
  if (want.severity !== undefined && p['severity'] !== want.severity) diff('severity', want.severity, p['severity']);
}

function compareChat(testCase: PackTestCase, executions: readonly ObservedExecution[], failures: CaseFailure[]): void {
  const expected = testCase.expect.chat;
  if (expected === undefined) return;
  const messages = executions.filter((e) => e.action.startsWith('chat.'));
  if (expected.length !== messages.length) {
    failures.push({
      kind: 'chat',
      path: 'chat',
      message: `expected ${plural(expected.length, 'chat message')}, got ${messages.length}${messages.length === 0 ? '' : ` (${messages.map((m) => shown(m.parameters['text'] ?? null, 60)).join(', ')})`}`,
      expected: expected.length,
      actual: messages.length,
    });
  }
  expected.forEach((want, i) => {
    const got = messages[i];
    if (got !== undefined) compareChatOne(want, got, `chat.${i}`, failures);
  });
}

function compareDecisions(testCase: PackTestCase, views: readonly CaseDecisionView[], failures: CaseFailure[]): void {
  const expected = testCase.expect.decisions;
  if (expected === undefined) return;
  for (const rule of new Set(expected.map((d) => d.rule))) {
    const want = expected.filter((d) => d.rule === rule);
    const got = views.filter((d) => d.rule === rule);
    const wantOutcomes = want.map((d) => d.outcome);
    const gotOutcomes = got.map((d) => d.outcome);
    if (wantOutcomes.join() !== gotOutcomes.join()) {
      const shownGot = got.map((d) => `${d.outcome} (${d.step}: ${d.reason})`).join('; ') || 'no decision (its trigger or criteria did not match)';
      failures.push({ kind: 'decisions', path: 'decisions', message: `${rule}: expected ${wantOutcomes.join(', ')}, got ${shownGot}`, expected: wantOutcomes, actual: gotOutcomes });
      continue;
    }
    want.forEach((d, i) => {
      const reason = got[i]?.reason ?? '';
      if (d.reasonContains !== undefined && !reason.includes(d.reasonContains)) {
        failures.push({ kind: 'decisions', path: 'decisions', message: `${rule}: expected the reason of decision ${i + 1} to contain ${shown(d.reasonContains)}, got ${shown(reason)}`, expected: d.reasonContains, actual: reason });
      }
    });
  }
}

/** Compares what the engine did with what the case expects. */
export function judgeCase(testCase: PackTestCase, observed: CaseObservation): CaseResult {
  const decisions: CaseDecisionView[] = observed.events.flatMap((e) => e.decisions.map((d) => ({ step: e.step, event: e.id, rule: d.rule, outcome: d.outcome, reason: d.reason })));
  const fired = decisions.filter((d) => d.outcome === 'fired').map((d) => d.rule);
  const failures: CaseFailure[] = [];
  // A rule that matched but could not fire (a template error, parameters its action refuses) is always a failure,
  // unless the case expects exactly that (`decisions`); for a rule `fire` lists, the missing firing says why.
  const explained = new Set([...(testCase.expect.fire ?? []), ...(testCase.expect.decisions ?? []).filter((d) => d.outcome === 'failed').map((d) => d.rule)]);
  for (const e of observed.events) {
    for (const d of e.decisions) {
      if (d.outcome !== 'failed' || explained.has(d.rule)) continue;
      failures.push({ kind: 'could_not_fire', path: 'fire', message: `${d.rule} matched on ${e.step} but could not fire: ${reasonOf(d)}` });
    }
  }
  if (testCase.expect.fire !== undefined) compareFire(testCase.expect.fire, fired, observed, failures);
  compareActions(testCase, observed.executions, failures);
  compareChat(testCase, observed.executions, failures);
  compareDecisions(testCase, decisions, failures);
  return {
    case: testCase.name,
    file: testCase.file,
    ...(testCase.description === undefined ? {} : { description: testCase.description }),
    status: failures.length === 0 ? 'passed' : 'failed',
    fired,
    decisions,
    actions: observed.executions.map((e) => ({ action: e.action, ...(e.rule === undefined ? {} : { rule: e.rule }), parameters: e.parameters, later: e.later })),
    failures,
  };
}
