/**
 * Action parameter templates: Liquid (Jinja-like) over the event context, parsed once per rule.
 *
 * - A string that is exactly one `{{ expr }}` keeps the type of the value (number, boolean,
 *   object, array); any other string with `{{ }}` or `{% %}` renders to a string, where objects
 *   and arrays are written as JSON.
 * - Strict: a path that does not exist is an error naming it, unless the expression's first
 *   filter is `default` (`{{ payload.x | default: "n/a" }}`). An unknown filter is an error at
 *   compile time.
 * - Safe: own properties only, no file system (`include`, `render`, `layout` do not exist), and
 *   bounded parse size, render time and memory.
 * - Datastore keys are read as `kv.system.<name>` / `kv.pack.<name>`, names written out, so the
 *   keys a rule needs are known when it compiles (`kvReferences`); the caller loads them into the
 *   context (this package does no I/O).
 */
import { Context, Liquid, Output, toValue, toValueSync, type FS, type LiquidOptions, type Template, type Value } from 'liquidjs';
import { KV_NAME_PATTERN, ValidationError, type EventContext, type JsonObject, type JsonValue } from '@reflex/model';

export const TEMPLATE_LIMITS = Object.freeze({
  /** Characters in one template string. */
  maxLength: 100_000,
  /** Milliseconds one value may take to render. */
  renderMs: 1_000,
  /** Liquid's allocation budget (characters and array items it creates) per render. */
  memory: 10_000_000,
});

function refuse(): never {
  throw new Error('templates cannot read files');
}

/** A file system that has no files: nothing a template does can reach the disk. */
const NO_FILES: FS = {
  exists: () => Promise.resolve(false),
  existsSync: () => false,
  readFile: () => Promise.reject(new Error('templates cannot read files')),
  readFileSync: refuse,
  resolve: (_dir, file) => file,
  contains: () => Promise.resolve(false),
  containsSync: () => false,
};

const FILE_TAGS = ['include', 'render', 'layout'] as const;

function newEngine(outputEscape?: (value: unknown) => unknown): Liquid {
  const options: LiquidOptions = {
    ownPropertyOnly: true,
    strictVariables: true,
    lenientIf: true,
    strictFilters: true,
    fs: NO_FILES,
    root: [],
    partials: [],
    layouts: [],
    relativeReference: false,
    cache: false,
    // The `date` filter writes UTC whatever the host's zone.
    timezoneOffset: 0,
    parseLimit: TEMPLATE_LIMITS.maxLength,
    renderLimit: TEMPLATE_LIMITS.renderMs,
    memoryLimit: TEMPLATE_LIMITS.memory,
  };
  // Liquid's option type says the escape returns a string; it is a filter and may return any value.
  if (outputEscape !== undefined) options.outputEscape = outputEscape as (value: unknown) => string;
  const engine = new Liquid(options);
  for (const tag of FILE_TAGS) delete engine.tags[tag];
  return engine;
}

/** Objects and arrays inside text are written as JSON rather than `[object Object]`. */
function jsonForObjects(value: unknown): unknown {
  const v = toValue(value);
  return typeof v === 'object' && v !== null ? JSON.stringify(v) : v;
}

/** Evaluates single expressions (typed); no output escape so values keep their type. */
const typedEngine = newEngine();
/** Renders text. */
const textEngine = newEngine(jsonForObjects);

const SINGLE_EXPRESSION = /^\s*\{\{-?([\s\S]*?)-?\}\}\s*$/;

/** Datastore keys a template reads: `kv.system.<name>` and `kv.pack.<name>` (the rule's pack). */
export interface KvReferences {
  system: string[];
  pack: string[];
}

type Compiled =
  | { kind: 'literal'; value: JsonValue }
  | { kind: 'typed'; source: string; value: Value; kv: KvReferences }
  | { kind: 'text'; source: string; templates: Template[]; kv: KvReferences }
  | { kind: 'array'; items: Compiled[] }
  | { kind: 'object'; entries: Array<[string, Compiled]> };

/** A parameter value with its templates parsed; render it with `renderCompiledValue`. */
export type CompiledValue = Compiled;

function isTemplate(text: string): boolean {
  return text.includes('{{') || text.includes('{%');
}

function fail(field: string, message: string, cause?: unknown): ValidationError {
  return new ValidationError(`${field}: ${message}`, [{ field, message }], cause === undefined ? undefined : { cause });
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

const kvNameRe = new RegExp(KV_NAME_PATTERN);

/**
 * The datastore keys a parsed template reads. Only literal names are allowed (`kv.system.oncall`,
 * `kv.pack["db.host"]`): the rules engine loads exactly those keys before rendering, so a whole
 * scope (`{% for k in kv.system %}`) or a computed name (`kv.system[payload.team]`) is refused.
 */
function kvReferencesOf(engine: Liquid, templates: Template[], field: string): KvReferences {
  const refs: KvReferences = { system: [], pack: [] };
  for (const segments of engine.globalVariableSegmentsSync(templates, { partials: false })) {
    if (segments[0] !== 'kv') continue;
    const [, scope, name] = segments;
    const shown = segments.map((s) => (Array.isArray(s) ? '[…]' : String(s))).join('.');
    if (scope !== 'system' && scope !== 'pack') {
      throw fail(field, `'${shown}': the datastore is read as kv.system.<name> or kv.pack.<name> (the rule's own pack)`);
    }
    if (name === undefined) throw fail(field, `'${shown}': name one key (kv.${scope}.<name>); a whole scope cannot be read`);
    if (typeof name !== 'string') {
      throw fail(field, `'${shown}': the key name must be written out (kv.${scope}.<name> or kv.${scope}["<name>"]), not computed`);
    }
    if (!kvNameRe.test(name)) throw fail(field, `'${shown}': '${name}' is not a key name (${KV_NAME_PATTERN})`);
    if (!refs[scope].includes(name)) refs[scope].push(name);
  }
  return refs;
}

function compileString(text: string, field: string): Compiled {
  if (!isTemplate(text)) return { kind: 'literal', value: text };
  if (text.length > TEMPLATE_LIMITS.maxLength) {
    throw fail(field, `template is ${text.length} characters long; the limit is ${TEMPLATE_LIMITS.maxLength}`);
  }
  let parsed: { engine: Liquid; templates: Template[]; typed?: Value };
  try {
    const single = SINGLE_EXPRESSION.exec(text);
    const inner = single?.[1];
    let typed: { templates: Template[]; value: Value } | undefined;
    if (inner !== undefined && !/\{\{|\}\}|\{%|%\}/.test(inner)) {
      const templates = typedEngine.parse(text);
      const outputs = templates.filter((t): t is Output => t instanceof Output);
      if (outputs.length === 1) typed = { templates, value: outputs[0]!.value };
    }
    parsed = typed === undefined ? { engine: textEngine, templates: textEngine.parse(text) } : { engine: typedEngine, ...typed, typed: typed.value };
  } catch (err) {
    throw fail(field, `template does not parse: ${reason(err)}`, err);
  }
  const kv = kvReferencesOf(parsed.engine, parsed.templates, field);
  return parsed.typed === undefined
    ? { kind: 'text', source: text, templates: parsed.templates, kv }
    : { kind: 'typed', source: text, value: parsed.typed, kv };
}

/** Every datastore key a compiled value's templates read (each name once). */
export function kvReferences(compiled: CompiledValue, into: KvReferences = { system: [], pack: [] }): KvReferences {
  switch (compiled.kind) {
    case 'literal':
      break;
    case 'array':
      for (const item of compiled.items) kvReferences(item, into);
      break;
    case 'object':
      for (const [, item] of compiled.entries) kvReferences(item, into);
      break;
    case 'typed':
    case 'text':
      for (const scope of ['system', 'pack'] as const) {
        for (const name of compiled.kv[scope]) if (!into[scope].includes(name)) into[scope].push(name);
      }
  }
  return into;
}

/**
 * Parses every template inside `value` (strings anywhere in objects and arrays; keys are not
 * templated). Throws ValidationError naming `field` (and the path below it) on a parse error.
 */
export function compileTemplateValue(value: JsonValue, field: string): CompiledValue {
  if (typeof value === 'string') return compileString(value, field);
  if (Array.isArray(value)) {
    return { kind: 'array', items: value.map((item, i) => compileTemplateValue(item, `${field}.${i}`)) };
  }
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'object',
      entries: Object.entries(value).map(([key, item]) => [key, compileTemplateValue(item, `${field}.${key}`)]),
    };
  }
  return { kind: 'literal', value };
}

/** What a typed expression produced, as JSON; anything that is not JSON is an error. */
function toJson(value: unknown, depth = 0): JsonValue {
  const v = toValue(value);
  if (depth > 64) throw new Error('value is nested too deeply');
  if (v === undefined || v === null) return null;
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`evaluated to ${String(v)}, which is not a JSON number`);
    return v;
  }
  if (Array.isArray(v)) return v.map((item: unknown) => toJson(item, depth + 1));
  if (v instanceof Date) return v.toISOString();
  if (typeof v === 'object') {
    const out: JsonObject = {};
    for (const [key, item] of Object.entries(v)) out[key] = toJson(item, depth + 1);
    return out;
  }
  throw new Error(`evaluated to a ${typeof v}, which is not a JSON value`);
}

const RENDER_OPTIONS = { sync: true } as const;

/**
 * A fresh top-level scope per render: `{% increment %}` writes there, never into the event. Every
 * top-level variable the caller put in the context is kept: `payload`, `event`, `kv`, and those of
 * noise control (`group`, `events`, `window`).
 */
function scopeOf(ctx: EventContext): EventContext {
  return { ...ctx };
}

function renderOne(compiled: Compiled, ctx: EventContext, field: string): JsonValue {
  switch (compiled.kind) {
    case 'literal':
      return compiled.value;
    case 'array':
      return compiled.items.map((item, i) => renderOne(item, ctx, `${field}.${i}`));
    case 'object': {
      const out: JsonObject = {};
      for (const [key, item] of compiled.entries) out[key] = renderOne(item, ctx, `${field}.${key}`);
      return out;
    }
    case 'typed':
      try {
        const context = new Context(scopeOf(ctx), typedEngine.options, RENDER_OPTIONS, { liquid: typedEngine });
        return toJson(toValueSync(compiled.value.value(context, false)));
      } catch (err) {
        throw fail(field, reason(err), err);
      }
    case 'text':
      try {
        return String(textEngine.renderSync(compiled.templates, scopeOf(ctx), RENDER_OPTIONS));
      } catch (err) {
        throw fail(field, reason(err), err);
      }
  }
}

/** Renders a compiled value over `ctx`; throws ValidationError naming `field` (and below). */
export function renderCompiledValue(compiled: CompiledValue, ctx: EventContext, field: string): JsonValue {
  return renderOne(compiled, ctx, field);
}

/**
 * Parses and renders `value` in one go (no caching): for callers outside a compiled rule, such
 * as a preview in the API. Throws ValidationError naming `field`.
 */
export function renderTemplateValue(value: JsonValue, ctx: EventContext, field = 'value'): JsonValue {
  return renderOne(compileTemplateValue(value, field), ctx, field);
}
