/**
 * One case of `reflex pack test`, run in a Reflex of its own inside this process: the embedded bus
 * and an in-memory SQLite store, the case's packs registered, the case's datastore values set, and
 * the real rules engine consuming the events. The case's events are published the way the API
 * does (validated against the trigger type, a webhook body split into one event per item), one at
 * a time: the next goes out once the engine has stored everything it decided about the previous
 * one (its firing record — the event, decisions, enforcements, executions — is one store write,
 * which this harness watches). Nothing consumes the execution requests: actions are stubbed at the
 * runner boundary, after the engine has validated their parameters against the action's schema.
 *
 * The clock is the case's (`now:`, else the time the case starts) and stands still; an `advance`
 * step moves it and runs the engine's scheduler, so alert groups and throttle windows that are
 * then due fire.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { createEmbeddedBus, type Bus } from '@reflex/bus';
import { loadRuleTest, type RuleTestInput, type RuleTestReport } from '@reflex/cli';
import {
  busNames,
  newId,
  newTraceId,
  ReflexError,
  validateUser,
  ValidationError,
  webhookPayloads,
  type Action,
  type JsonObject,
  type JsonValue,
  type ReflexEvent,
  type Rule,
  type TriggerType,
} from '@reflex/model';
import { judgeCase, registerPacks, testCaseError, type CaseObservation, type CaseResult, type LoadedPack, type ObservedEvent, type ObservedExecution, type PackFileError, type PackTestCase, type TestEventStep } from '@reflex/packs';
import { startRulesEngine, type RulesEngineHandle } from '@reflex/rules-engine';
import { ensureStreams, publishEvent } from '@reflex/runtime';
import { createSqliteStore, type FiringRecord, type Store } from '@reflex/store';

const DAY_MS = 86_400_000;
const WEBHOOK_TRIGGER = 'core.webhook';
const ENGINE_FAILED = 'event handling failed; will be redelivered';

/** A case that could not run: its problems, pinned to the case file where possible. */
export class CaseSetupError extends ReflexError {
  readonly errors: PackFileError[];
  constructor(message: string, errors: PackFileError[]) {
    super('PACK_TEST_SETUP', message);
    this.errors = errors;
  }
}

/** The store, with every firing record reported once it is written. */
function recordingStore(store: Store, onRecord: (batch: readonly FiringRecord[]) => void): Store {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'record') {
        return async (batch: FiringRecord[]): Promise<void> => {
          await target.record(batch);
          onRecord(batch);
        };
      }
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/** What the engine wrote, in order, and a way to wait for one event's record. */
class Recorder {
  readonly records: Array<{ record: FiringRecord; later: boolean }> = [];
  readonly #waiting = new Map<string, { resolve: (r: FiringRecord) => void; reject: (err: Error) => void }>();
  readonly #file: string;

  constructor(file: string) {
    this.#file = file;
  }

  onRecord(batch: readonly FiringRecord[]): void {
    for (const record of batch) {
      // A throttle window's or alert group's firing carries the window on its enforcement.
      const later = record.enforcements.some((e) => e.window !== undefined);
      this.records.push({ record, later });
      if (later) continue;
      this.#waiting.get(record.event.id)?.resolve(record);
      this.#waiting.delete(record.event.id);
    }
  }

  /** Resolves once the engine has stored its record of the event (call before publishing it). */
  handled(eventId: string): Promise<FiringRecord> {
    return new Promise((resolve, reject) => this.#waiting.set(eventId, { resolve, reject }));
  }

  /** The engine gave up on an event (it would be redelivered): the case cannot finish. */
  fail(message: string): void {
    const err = new CaseSetupError(message, [{ file: this.#file, field: '', message }]);
    for (const w of this.#waiting.values()) w.reject(err);
    this.#waiting.clear();
  }
}

/** The engine's logger: quiet, except that an event it failed to handle fails the case at once. */
function engineLogger(recorder: Recorder): Logger {
  const sink: DestinationStream = {
    write(line: string): void {
      let entry: { msg?: string; err?: { message?: string } };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        return;
      }
      if (entry.msg === ENGINE_FAILED) recorder.fail(`the rules engine could not handle the event: ${entry.err?.message ?? 'unknown error'}`);
    },
  };
  return pino({ level: 'error', base: null }, sink);
}

function isObject(value: unknown): value is JsonObject {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** The events a step makes, as the API would: checked against the trigger type, a webhook body split per item. */
function eventsOf(testCase: PackTestCase, step: TestEventStep, triggerType: TriggerType | null, nowMs: number): ReflexEvent[] {
  const problem = (field: string, err: unknown): CaseSetupError => {
    const details = err instanceof ValidationError ? (err.details ?? []) : [];
    const message = err instanceof Error ? err.message : String(err);
    const errors = details.length === 0 ? [testCaseError(testCase, field, message)] : details.map((d) => testCaseError(testCase, field, `${d.field} ${d.message}`));
    return new CaseSetupError(`${step.field}: ${message}`, errors);
  };
  if (triggerType === null) throw problem(`${step.field}.trigger`, new Error(`no trigger type '${step.trigger}' is registered (the pack under test, its dependencies, core and chat are)`));
  const payloadField = `${step.field}.${Object.hasOwn(testCase.source.positions, `${step.field}.payload_file`) ? 'payload_file' : 'payload'}`;
  const webhook = triggerType.ref === WEBHOOK_TRIGGER || triggerType.webhook !== undefined;
  let payloads: JsonValue[];
  try {
    if (triggerType.webhook !== undefined) {
      payloads = webhookPayloads(triggerType, step.payload);
      for (const payload of payloads) if (triggerType.payloadSchema !== undefined) validateUser(triggerType.payloadSchema, payload, 'body', `a ${triggerType.ref} event`);
    } else {
      // core.webhook: a POST without headers or a query string has them empty.
      const payload = triggerType.ref === WEBHOOK_TRIGGER && isObject(step.payload) ? { headers: {}, query: {}, ...step.payload } : structuredClone(step.payload);
      if (triggerType.payloadSchema !== undefined) validateUser(triggerType.payloadSchema, payload, 'payload', `payload of ${triggerType.ref}`);
      payloads = [payload];
    }
  } catch (err) {
    throw problem(payloadField, err);
  }
  const triggerParameters = step.parameters === undefined ? undefined : structuredClone(step.parameters);
  if (triggerParameters !== undefined && triggerType.parametersSchema !== undefined) {
    try {
      validateUser(triggerType.parametersSchema, triggerParameters, 'parameters', `trigger parameters of ${triggerType.ref}`);
    } catch (err) {
      throw problem(`${step.field}.parameters`, err);
    }
  }
  const traceId = newTraceId();
  return payloads.map((payload) => ({
    id: newId(nowMs),
    type: triggerType.ref,
    source: webhook ? 'webhook' : 'reflex pack test',
    payload,
    occurredAt: new Date(nowMs).toISOString(),
    traceId,
    ...(triggerParameters === undefined ? {} : { triggerParameters }),
  }));
}

/** Why a rule made no decision about an event, from the checks `reflex rule test` makes. */
function explainer(
  testRule: (input: RuleTestInput) => RuleTestReport,
  rules: Map<string, Rule>,
  actions: Map<string, Action>,
  events: Map<string, ReflexEvent>,
  now: () => number,
): CaseObservation['explain'] {
  return (ref: string, observed: ObservedEvent): string | undefined => {
    const rule = rules.get(ref);
    const event = events.get(observed.id);
    if (rule === undefined || event === undefined) return undefined;
    const report = testRule({ rule, event, action: actions.get(rule.action.ref), now });
    const failing = report.checks.find((c) => !c.ok && c.check !== 'action' && c.check !== 'parameters');
    if (failing === undefined) return 'it matched, but the engine recorded no decision';
    if (failing.check !== 'criteria') return failing.message;
    const read = report.criteria
      .filter((c) => !c.matched)
      .map((c) => `${c.field} read ${Object.keys(c.values).length === 0 ? 'nothing (no such field)' : Object.entries(c.values).map(([k, v]) => `${k} = ${JSON.stringify(v)}`).join(', ')}`);
    return read.length === 0 ? `criteria: ${failing.message}` : `criteria ${failing.message} (${read.join('; ')})`;
  };
}

function memoryStore(): Promise<Store> {
  return createSqliteStore({ path: ':memory:', retention: { eventsMs: 0, executionsMs: 0 }, sweepIntervalMs: 0 });
}

/** Why the packs would not register (the pack under test, or one it needs), each with file:line; empty when they do. */
export async function registrationErrors(packs: LoadedPack[]): Promise<PackFileError[]> {
  const store = await memoryStore();
  try {
    return (await registerPacks(store, packs)).flatMap((r) => (r.ok ? [] : r.errors));
  } finally {
    await store.close();
  }
}

export interface RunCaseOptions {
  /** The packs to register: the pack under test last, what it needs before it. */
  packs: LoadedPack[];
}

/** Runs one case; a case that cannot run (bad event, packs that do not register) is a result with status `error`. */
export async function runCase(testCase: PackTestCase, options: RunCaseOptions): Promise<CaseResult> {
  let nowMs = testCase.now === undefined ? Date.now() : Date.parse(testCase.now);
  const now = (): number => nowMs;
  const names = busNames();
  const store = await memoryStore();
  let bus: Bus | undefined;
  let engine: RulesEngineHandle | undefined;
  try {
    // Rules the pack under test ships disabled (a remediation that waits for an operator's opt-in) are
    // tested as if enabled: a case is about what the rule would do.
    const last = options.packs.length - 1;
    const packs = options.packs.map((p, i) => (i === last ? { ...p, rules: p.rules.map((r) => ({ ...r, enabled: true })) } : p));
    const registered = await registerPacks(store, packs, { now: new Date(nowMs) });
    const refused = registered.flatMap((r) => (r.ok ? [] : r.errors));
    if (refused.length > 0) throw new CaseSetupError('the packs did not register', refused);
    for (const { scope, name, value } of testCase.kv) await store.keys.put({ scope, name, value });

    bus = await createEmbeddedBus();
    await ensureStreams(bus, names);
    const recorder = new Recorder(testCase.file);
    const recording = recordingStore(store, (batch) => recorder.onRecord(batch));
    engine = await startRulesEngine({
      bus,
      store: recording,
      names,
      logger: engineLogger(recorder),
      now,
      concurrency: 1,
      reloadIntervalMs: DAY_MS,
      schedulerPollMs: DAY_MS,
    });

    const events = new Map<string, ReflexEvent>();
    const observed: ObservedEvent[] = [];
    for (const step of testCase.steps) {
      if (step.kind === 'advance') {
        nowMs += step.ms;
        await engine.runDue();
        continue;
      }
      const made = eventsOf(testCase, step, await store.triggerTypes.get(step.trigger), nowMs);
      for (const [i, event] of made.entries()) {
        const handled = recorder.handled(event.id);
        handled.catch(() => undefined); // a failure is taken by the await below, even if it comes while publishing
        await publishEvent(bus, names, event);
        const record = await handled;
        events.set(event.id, event);
        // A split webhook body: `event#2` is its second item.
        observed.push({ id: event.id, type: event.type, step: made.length > 1 ? `${step.field}#${i + 1}` : step.field, decisions: record.decisions ?? [] });
      }
      // Whatever the events made due at once (a zero wait) fires now, not at some turn of the event loop.
      await engine.runDue();
    }

    const executions: ObservedExecution[] = [];
    for (const { record, later } of recorder.records) {
      for (const written of record.executions) {
        const stored = await store.executions.get(written.id);
        if (stored === null) throw new CaseSetupError(`execution ${written.id} was requested but is not in the store`, [{ file: testCase.file, field: '', message: 'the rules engine did not store an execution it requested' }]);
        executions.push({
          id: stored.id,
          action: stored.action,
          ...(stored.rule === undefined ? {} : { rule: stored.rule }),
          ...(stored.eventId === undefined ? {} : { eventId: stored.eventId }),
          parameters: stored.parameters,
          later,
        });
      }
    }
    const rules = new Map((await store.rules.list()).map((r) => [r.ref, r]));
    const actions = new Map((await store.actions.list()).map((a) => [a.ref, a]));
    const { testRule } = await loadRuleTest();
    return judgeCase(testCase, { events: observed, executions, explain: explainer(testRule, rules, actions, events, now) });
  } catch (err) {
    if (!(err instanceof CaseSetupError)) throw err;
    return {
      case: testCase.name,
      file: testCase.file,
      ...(testCase.description === undefined ? {} : { description: testCase.description }),
      status: 'error',
      fired: [],
      decisions: [],
      actions: [],
      failures: [],
      errors: err.errors,
    };
  } finally {
    await engine?.stop();
    await bus?.close();
    await store.close();
  }
}
