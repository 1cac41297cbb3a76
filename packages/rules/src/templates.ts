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
 */
import { Context, Liquid, Output, toValue, toValueSync, type FS, type LiquidOptions, type Template, type Value } from 'liquidjs';
import { ValidationError, type EventContext, type JsonObject, type JsonValue } from '@reflex/model';

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

type Compiled =
  | { kind: 'literal'; value: JsonValue }
  | { kind: 'typed'; source: string; value: Value }
  | { kind: 'text'; source: string; templates: Template[] }
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

function compileString(text: string, field: string): Compiled {
  if (!isTemplate(text)) return { kind: 'literal', value: text };
  if (text.length > TEMPLATE_LIMITS.maxLength) {
    throw fail(field, `template is ${text.length} characters long; the limit is ${TEMPLATE_LIMITS.maxLength}`);
  }
  try {
    const single = SINGLE_EXPRESSION.exec(text);
    const inner = single?.[1];
    if (inner !== undefined && !/\{\{|\}\}|\{%|%\}/.test(inner)) {
      const outputs = typedEngine.parse(text).filter((t): t is Output => t instanceof Output);
      if (outputs.length === 1) return { kind: 'typed', source: text, value: outputs[0]!.value };
    }
    return { kind: 'text', source: text, templates: textEngine.parse(text) };
  } catch (err) {
    throw fail(field, `template does not parse: ${reason(err)}`, err);
  }
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

/** A fresh top-level scope per render: `{% increment %}` writes there, never into the event. */
function scopeOf(ctx: EventContext): EventContext {
  return { payload: ctx.payload, event: ctx.event };
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
