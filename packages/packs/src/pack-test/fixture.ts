/**
 * The cases of `reflex pack test`: `tests/*.yaml` in a pack folder, one case a file (other files in
 * `tests/` are data, such as the JSON bodies a case names in `payload_file`). A case says which
 * events arrive and what the pack's rules must do about them:
 *
 *   description: disk at 97% on / triggers the cleanup
 *   event: { trigger: linux.disk_usage, parameters: {}, payload: { … } }     # or payload_file: x.json
 *   expect:
 *     fire: [linux.disk_full_cleanup]
 *     actions: [{ action: core.local, parameters: { cmd: journalctl } }]
 *     chat: [{ target: ops, text_contains: load }]
 *
 * Optional keys: `events:` (several events in order, and `advance: 30s` steps that move the clock so
 * alert groups and throttle windows that are due fire), `kv:` (datastore values), `now:` (the clock),
 * `expect.decisions` (what noise control decided). Every problem in a case file is reported with its
 * file, line and field, like the pack's own files.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  DECISION_OUTCOMES,
  DURATION_PATTERN,
  KV_NAME_PATTERN,
  PACK_NAME_PATTERN,
  parseDuration,
  REF_PATTERN,
  validateModel,
  ValidationError,
  type DecisionOutcome,
  type JsonObject,
  type JsonSchema,
  type JsonValue,
} from '@reflex/model';
import { isPlainObject } from '../json-schema.ts';
import type { ItemSource, PackFileError } from '../types.ts';
import { fileError, MAX_FILE_BYTES, parseYaml } from '../yaml-source.ts';

/** The folder of a pack that holds its test cases. */
export const TESTS_FOLDER = 'tests';
const CASE_FILE = /\.ya?ml$/;

/** One event the case sends, as the API would get it. */
export interface TestEventStep {
  kind: 'event';
  /** A trigger type ref. */
  trigger: string;
  /** Trigger parameters (webhook trigger types: `{ url }`). */
  parameters?: JsonObject;
  /**
   * The payload; for a pack webhook trigger type (`webhook:` in its file) the request body, which is
   * split into one event per item when the trigger type says `webhook.split`.
   */
  payload: JsonValue;
  /** Where the step is in the case file (`event`, `events.2`), for errors. */
  field: string;
}

/** Moves the clock; windows and groups that are then due fire. */
export interface TestAdvanceStep {
  kind: 'advance';
  ms: number;
  /** As written (`30s`). */
  text: string;
  field: string;
}

export type TestStep = TestEventStep | TestAdvanceStep;

export interface ExpectedAction {
  action: string;
  /** The rule that requested it, when the case says. */
  rule?: string;
  /** A subset of the parameters (deep partial: only the keys written are compared). */
  parameters?: JsonObject;
}

export interface ExpectedChat {
  /** The `target` parameter; null: the message names none (the site's default target). Absent: any. */
  target?: string | null;
  text?: string;
  textContains?: string;
  title?: string;
  severity?: string;
}

export interface ExpectedDecision {
  rule: string;
  outcome: DecisionOutcome;
  reasonContains?: string;
}

export interface TestExpectations {
  /** Exactly the rules that fire at once on the case's events (in any order; a rule twice if it fires twice). */
  fire?: string[];
  /** Exactly the executions requested, in order. */
  actions?: ExpectedAction[];
  /** Exactly the chat messages (chat.post, chat.update executions), in order. */
  chat?: ExpectedChat[];
  /** For each rule named here: exactly its decisions about the case's events, in order. */
  decisions?: ExpectedDecision[];
}

export interface KvPreset {
  scope: string;
  name: string;
  value: JsonValue;
}

export interface PackTestCase {
  /** The file name without its extension. */
  name: string;
  /** Relative to the folder holding the pack folder, like pack errors: `alerting/tests/split.yaml`. */
  file: string;
  description?: string;
  /** ISO time the clock starts at. */
  now?: string;
  kv: KvPreset[];
  steps: TestStep[];
  expect: TestExpectations;
  /** Key positions, so later problems (an unknown trigger type) still name the line. */
  source: ItemSource;
}

export interface PackTests {
  /** Absolute path of the tests folder; null when the pack has none. */
  dir: string | null;
  cases: PackTestCase[];
  /** Problems in case files: such a file is not a case. */
  errors: PackFileError[];
}

const ref = { type: 'string', pattern: REF_PATTERN } as const;
const packScope = `^(system|pack|pack:${PACK_NAME_PATTERN.slice(1, -1)})$`;

const caseSchema = {
  $id: 'reflex:pack-test/case',
  type: 'object',
  additionalProperties: false,
  required: ['expect'],
  properties: {
    description: { type: 'string' },
    now: { type: 'string', format: 'date-time' },
    event: { type: 'object' },
    events: { type: 'array', minItems: 1, items: { type: 'object' } },
    kv: {
      type: 'object',
      propertyNames: { pattern: packScope },
      additionalProperties: { type: 'object', propertyNames: { pattern: KV_NAME_PATTERN } },
    },
    expect: {
      type: 'object',
      additionalProperties: false,
      properties: {
        fire: { type: 'array', items: ref },
        actions: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['action'],
            properties: { action: ref, rule: ref, parameters: { type: 'object' } },
          },
        },
        chat: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            properties: {
              target: { type: ['string', 'null'] },
              text: { type: 'string' },
              text_contains: { type: 'string' },
              title: { type: 'string' },
              severity: { type: 'string' },
            },
          },
        },
        decisions: {
          type: 'array',
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['rule', 'outcome'],
            properties: { rule: ref, outcome: { enum: [...DECISION_OUTCOMES] }, reason_contains: { type: 'string' } },
          },
        },
      },
    },
  },
} as const satisfies JsonSchema & { $id: string };

const eventSchema = {
  $id: 'reflex:pack-test/event',
  type: 'object',
  additionalProperties: false,
  required: ['trigger'],
  properties: {
    trigger: ref,
    parameters: { type: 'object' },
    payload: {},
    payload_file: { type: 'string', minLength: 1 },
  },
} as const satisfies JsonSchema & { $id: string };

const advanceSchema = {
  $id: 'reflex:pack-test/advance',
  type: 'object',
  additionalProperties: false,
  required: ['advance'],
  properties: { advance: { type: 'string', pattern: DURATION_PATTERN } },
} as const satisfies JsonSchema & { $id: string };

function schemaErrors(schema: JsonSchema & { $id: string }, value: unknown, source: ItemSource, root: string): PackFileError[] {
  try {
    validateModel(schema, value, root, 'test case');
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return (err.details ?? []).map((d) => fileError(source, d.field, d.message));
  }
}

function join(...parts: string[]): string {
  return parts.filter((p) => p !== '').join('.');
}

/** A data file named by a case: relative to `tests/`, inside the pack; JSON (or YAML for `.yaml`/`.yml`). */
async function readPayloadFile(testsDir: string, name: string, source: ItemSource, field: string): Promise<{ value: JsonValue } | { error: PackFileError }> {
  const packDir = path.dirname(testsDir);
  const target = path.resolve(testsDir, name);
  const inside = path.relative(packDir, target);
  if (inside === '' || inside.startsWith('..') || path.isAbsolute(inside)) return { error: fileError(source, field, 'must name a file inside the pack folder (relative to tests/)') };
  let text: string;
  try {
    if ((await stat(target)).size > MAX_FILE_BYTES) return { error: fileError(source, field, `${name} is larger than ${MAX_FILE_BYTES} bytes`) };
    text = await readFile(target, 'utf8');
  } catch (err) {
    return { error: fileError(source, field, `${name} cannot be read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`) };
  }
  if (CASE_FILE.test(name)) {
    const parsed = parseYaml(text, name);
    const first = parsed.errors[0];
    if (first !== undefined) return { error: fileError(source, field, `${name}${first.line === undefined ? '' : `:${first.line}`}: ${first.message}`) };
    return { value: (parsed.value ?? null) as JsonValue };
  }
  try {
    return { value: JSON.parse(text) as JsonValue };
  } catch (err) {
    return { error: fileError(source, field, `${name} is not JSON: ${(err as Error).message}`) };
  }
}

async function eventStep(value: Record<string, unknown>, field: string, source: ItemSource, testsDir: string, errors: PackFileError[]): Promise<TestEventStep | undefined> {
  const found = schemaErrors(eventSchema, value, source, field);
  if (value['payload'] !== undefined && value['payload_file'] !== undefined) {
    found.push(fileError(source, join(field, 'payload_file'), 'give payload or payload_file, not both'));
  }
  errors.push(...found);
  if (found.length > 0) return undefined;
  let payload = (value['payload'] ?? {}) as JsonValue;
  if (typeof value['payload_file'] === 'string') {
    const read = await readPayloadFile(testsDir, value['payload_file'], source, join(field, 'payload_file'));
    if ('error' in read) {
      errors.push(read.error);
      return undefined;
    }
    payload = read.value;
  }
  return {
    kind: 'event',
    trigger: value['trigger'] as string,
    ...(value['parameters'] === undefined ? {} : { parameters: value['parameters'] as JsonObject }),
    payload,
    field,
  };
}

function advanceStep(value: Record<string, unknown>, field: string, source: ItemSource, errors: PackFileError[]): TestAdvanceStep | undefined {
  const found = schemaErrors(advanceSchema, value, source, field);
  let ms = 0;
  if (found.length === 0) {
    try {
      ms = parseDuration(value['advance'], join(field, 'advance'));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      found.push(...(err.details ?? []).map((d) => fileError(source, d.field, d.message)));
    }
  }
  errors.push(...found);
  return found.length === 0 ? { kind: 'advance', ms, text: value['advance'] as string, field } : undefined;
}

function expectations(value: Record<string, unknown>): TestExpectations {
  const out: TestExpectations = {};
  if (Array.isArray(value['fire'])) out.fire = value['fire'] as string[];
  if (Array.isArray(value['actions'])) out.actions = value['actions'] as ExpectedAction[];
  if (Array.isArray(value['chat'])) {
    out.chat = (value['chat'] as Array<Record<string, unknown>>).map((c) => {
      const chat: ExpectedChat = {};
      if (c['target'] !== undefined) chat.target = c['target'] as string | null;
      if (typeof c['text'] === 'string') chat.text = c['text'];
      if (typeof c['text_contains'] === 'string') chat.textContains = c['text_contains'];
      if (typeof c['title'] === 'string') chat.title = c['title'];
      if (typeof c['severity'] === 'string') chat.severity = c['severity'];
      return chat;
    });
  }
  if (Array.isArray(value['decisions'])) {
    out.decisions = (value['decisions'] as Array<Record<string, unknown>>).map((d) => ({
      rule: d['rule'] as string,
      outcome: d['outcome'] as DecisionOutcome,
      ...(typeof d['reason_contains'] === 'string' ? { reasonContains: d['reason_contains'] } : {}),
    }));
  }
  return out;
}

/**
 * Parses one case file's text. `file` is how errors name it; `testsDir` is where `payload_file`
 * names are looked up; `pack` is the scope `kv: { pack: … }` writes to.
 */
export async function parsePackTestCase(text: string, file: string, testsDir: string, pack: string): Promise<{ testCase?: PackTestCase; errors: PackFileError[] }> {
  const parsed = parseYaml(text, file);
  if (parsed.errors.length > 0) return { errors: parsed.errors };
  const source = parsed.source;
  const value = parsed.value;
  if (!isPlainObject(value)) return { errors: [fileError(source, '', 'must be a YAML mapping with `event` (or `events`) and `expect`')] };
  // Every problem at once: the case's shape, then each step's, then the checks a schema cannot make.
  const errors = schemaErrors(caseSchema, value, source, '');
  const hasEvent = value['event'] !== undefined;
  const hasEvents = value['events'] !== undefined;
  if (hasEvent && hasEvents) errors.push(fileError(source, 'events', 'give event or events, not both'));
  if (!hasEvent && !hasEvents) errors.push(fileError(source, 'event', 'is required (or events: a list)'));

  const testsDirAbs = path.resolve(testsDir);
  const steps: TestStep[] = [];
  const items: Array<[unknown, string]> = [];
  if (hasEvent && !hasEvents) items.push([value['event'], 'event']);
  if (hasEvents && !hasEvent && Array.isArray(value['events'])) value['events'].forEach((e, i) => items.push([e, `events.${i}`]));
  for (const [item, field] of items) {
    if (!isPlainObject(item)) continue;
    const step = Object.hasOwn(item, 'advance') && field !== 'event' ? advanceStep(item, field, source, errors) : await eventStep(item, field, source, testsDirAbs, errors);
    if (step !== undefined) steps.push(step);
  }
  if (hasEvents && Array.isArray(value['events']) && value['events'].length > 0 && !value['events'].some((e) => isPlainObject(e) && !Object.hasOwn(e, 'advance'))) {
    errors.push(fileError(source, 'events', 'must hold at least one event (not only advance steps)'));
  }
  const expect = isPlainObject(value['expect']) ? value['expect'] : {};
  const chat = Array.isArray(expect['chat']) ? expect['chat'] : [];
  chat.forEach((c: unknown, i) => {
    if (isPlainObject(c) && c['text'] !== undefined && c['text_contains'] !== undefined) {
      errors.push(fileError(source, `expect.chat.${i}.text_contains`, 'give text or text_contains, not both'));
    }
  });
  if (errors.length > 0) return { errors: errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0)) };

  const kv: KvPreset[] = [];
  for (const [scope, entries] of Object.entries((value['kv'] ?? {}) as Record<string, Record<string, JsonValue>>)) {
    for (const [name, entry] of Object.entries(entries)) kv.push({ scope: scope === 'pack' ? `pack:${pack}` : scope, name, value: entry });
  }
  const name = path.basename(file).replace(CASE_FILE, '');
  const testCase: PackTestCase = {
    name,
    file,
    ...(typeof value['description'] === 'string' ? { description: value['description'] } : {}),
    ...(typeof value['now'] === 'string' ? { now: new Date(value['now']).toISOString() } : {}),
    kv,
    steps,
    expect: expectations(expect),
    source,
  };
  return { testCase, errors: [] };
}

/** A problem found while running a case (an unknown trigger type, a payload the trigger type refuses), on its line. */
export function testCaseError(testCase: PackTestCase, field: string, message: string): PackFileError {
  return fileError(testCase.source, field, message);
}

/**
 * Reads the cases of the pack in `packDir` (its `tests/*.yaml`, by name). A pack without a tests
 * folder has no cases (`dir: null`). Files are named relative to the folder holding the pack.
 */
export async function loadPackTests(packDir: string, pack: string): Promise<PackTests> {
  const dir = path.join(path.resolve(packDir), TESTS_FOLDER);
  const base = path.dirname(path.resolve(packDir));
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    names = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && CASE_FILE.test(e.name)).map((e) => e.name).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return { dir: null, cases: [], errors: [] };
    throw new Error(`cannot list ${dir}`, { cause: err });
  }
  const result: PackTests = { dir, cases: [], errors: [] };
  for (const name of names) {
    const abs = path.join(dir, name);
    const file = path.relative(base, abs).split(path.sep).join('/');
    let text: string;
    try {
      if ((await stat(abs)).size > MAX_FILE_BYTES) {
        result.errors.push({ file, field: '', message: `is larger than ${MAX_FILE_BYTES} bytes` });
        continue;
      }
      text = await readFile(abs, 'utf8');
    } catch (err) {
      result.errors.push({ file, field: '', message: `cannot be read: ${(err as Error).message}` });
      continue;
    }
    const parsed = await parsePackTestCase(text, file, dir, pack);
    result.errors.push(...parsed.errors);
    if (parsed.testCase !== undefined) result.cases.push(parsed.testCase);
  }
  return result;
}
