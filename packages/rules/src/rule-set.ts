/**
 * The rule index. An event meets only the rules that can match it:
 *
 *   trigger type  →  trigger parameter names  →  canonical parameter values  →  group
 *   group         →  equality predicate (path, literal keys)  or  "no predicate"
 *
 * so a lookup costs the number of distinct parameter-name sets and predicate paths of that
 * trigger type plus the candidates found, never the number of rules.
 */
import { eventContext, type ErrorJson, type EventContext, type ReflexEvent, type Rule } from '@reflex/model';
import { compileRule, type CompileOptions, type CompiledRule } from './compile.ts';
import type { EqualityPredicate } from './equality.ts';
import { parameterKey, projectParameters } from './trigger.ts';

export interface MatchResult {
  rule: CompiledRule;
  matched: boolean;
  /** Why the criteria could not be evaluated (then `matched` is false). */
  error?: ErrorJson;
}

/** A rule in the index, with its rank in ref order (candidates are returned by ref). */
interface Entry {
  readonly rule: CompiledRule;
  order: number;
}

/** Where a rule sits inside its group. */
type Placement = { kind: 'open' } | { kind: 'equality'; predicate: EqualityPredicate };

function addTo<K>(map: Map<K, Set<Entry>>, key: K, entry: Entry): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(entry);
}

function removeFrom<K>(map: Map<K, Set<Entry>>, key: K, entry: Entry): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(entry);
  if (set.size === 0) map.delete(key);
}

function pushAll(set: Set<Entry> | undefined, out: Entry[]): void {
  if (set !== undefined) for (const entry of set) out.push(entry);
}

/** Number(text) when JavaScript would compare `text` to a number as that number. */
function numericValue(text: string): number | undefined {
  const n = Number(text);
  return Number.isNaN(n) ? undefined : n;
}

/**
 * The rules filed under one equality path, by the literal they require. The maps are the typed
 * form of equality.ts's index keys (`s:` looseString, `sn:` looseNumericString, `n:` looseNumber,
 * `S:` / `N:` / `B:` the strict ones), so a lookup builds no key strings: whenever json-logic-js
 * would find `value == literal` (or `===`), `lookup(value)` reaches the rule exactly once.
 */
class PathIndex {
  readonly segments: readonly string[];
  readonly looseString = new Map<string, Set<Entry>>();
  readonly looseNumericString = new Map<number, Set<Entry>>();
  readonly looseNumber = new Map<number, Set<Entry>>();
  readonly strictString = new Map<string, Set<Entry>>();
  readonly strictNumber = new Map<number, Set<Entry>>();
  readonly strictBoolean = new Map<boolean, Set<Entry>>();
  size = 0;

  constructor(path: string) {
    this.segments = path.split('.');
  }

  file(predicate: EqualityPredicate, entry: Entry, add: boolean): void {
    const put = add ? addTo : removeFrom;
    const { literal } = predicate;
    if (predicate.operator === '===') {
      if (typeof literal === 'string') put(this.strictString, literal, entry);
      else if (typeof literal === 'number') put(this.strictNumber, literal, entry);
      else put(this.strictBoolean, literal, entry);
    } else if (typeof literal === 'string') {
      put(this.looseString, literal, entry);
      const n = numericValue(literal);
      if (n !== undefined) put(this.looseNumericString, n, entry);
    } else {
      put(this.looseNumber, typeof literal === 'number' ? literal : literal ? 1 : 0, entry);
    }
    this.size += add ? 1 : -1;
  }

  /** Reads the path as json-logic's `var` does (`null` when missing), then collects the rules. */
  collect(ctx: EventContext, out: Entry[]): void {
    let value: unknown = ctx;
    for (const segment of this.segments) {
      if (value === null || value === undefined) return;
      value = (value as Record<string, unknown>)[segment];
    }
    switch (typeof value) {
      case 'string': {
        pushAll(this.looseString.get(value), out);
        pushAll(this.strictString.get(value), out);
        const n = numericValue(value);
        if (n !== undefined) pushAll(this.looseNumber.get(n), out);
        return;
      }
      case 'number':
        if (Number.isNaN(value)) return;
        pushAll(this.looseNumber.get(value), out);
        pushAll(this.looseNumericString.get(value), out);
        pushAll(this.strictNumber.get(value), out);
        return;
      case 'boolean':
        pushAll(this.looseNumber.get(value ? 1 : 0), out);
        pushAll(this.looseNumericString.get(value ? 1 : 0), out);
        pushAll(this.strictBoolean.get(value), out);
        return;
      case 'object': {
        if (value === null) return;
        // `==` turns an object or array into its text first (arrays join, objects "[object Object]").
        let text: string;
        try {
          text = String(value);
        } catch {
          return; // `==` would throw too: the rule cannot match
        }
        pushAll(this.looseString.get(text), out);
        const n = numericValue(text);
        if (n !== undefined) pushAll(this.looseNumber.get(n), out);
        return;
      }
      default:
        return;
    }
  }
}

/** Rules that share a trigger type and the same trigger parameters. */
class Group {
  readonly open = new Set<Entry>();
  readonly byPath = new Map<string, PathIndex>();
  readonly placements = new Map<string, Placement>();

  get size(): number {
    return this.placements.size;
  }

  add(entry: Entry): void {
    const predicate = this.choose(entry.rule.equalities);
    if (predicate === undefined) {
      this.open.add(entry);
      this.placements.set(entry.rule.ref, { kind: 'open' });
      return;
    }
    let index = this.byPath.get(predicate.path);
    if (index === undefined) {
      index = new PathIndex(predicate.path);
      this.byPath.set(predicate.path, index);
    }
    index.file(predicate, entry, true);
    this.placements.set(entry.rule.ref, { kind: 'equality', predicate });
  }

  /** Prefers a path the group already indexes, so events resolve as few paths as possible. */
  private choose(predicates: readonly EqualityPredicate[]): EqualityPredicate | undefined {
    return predicates.find((p) => this.byPath.has(p.path)) ?? predicates[0];
  }

  delete(entry: Entry): void {
    const placement = this.placements.get(entry.rule.ref);
    if (placement === undefined) return;
    this.placements.delete(entry.rule.ref);
    if (placement.kind === 'open') {
      this.open.delete(entry);
      return;
    }
    const index = this.byPath.get(placement.predicate.path);
    if (index === undefined) return;
    index.file(placement.predicate, entry, false);
    if (index.size === 0) this.byPath.delete(placement.predicate.path);
  }

  collect(ctx: EventContext, out: Entry[]): void {
    for (const entry of this.open) out.push(entry);
    for (const index of this.byPath.values()) index.collect(ctx, out);
  }
}

/** One trigger type: groups by the names, then the canonical values, of trigger parameters. */
class TypeBucket {
  /** JSON of the sorted name list → names and groups by canonical parameters. */
  readonly byNames = new Map<string, { names: string[]; groups: Map<string, Group> }>();
  size = 0;

  add(entry: Entry): void {
    const { names, key } = parameterKey(entry.rule.triggerParameters);
    const namesKey = JSON.stringify(names);
    let byKey = this.byNames.get(namesKey);
    if (byKey === undefined) {
      byKey = { names, groups: new Map() };
      this.byNames.set(namesKey, byKey);
    }
    let group = byKey.groups.get(key);
    if (group === undefined) {
      group = new Group();
      byKey.groups.set(key, group);
    }
    group.add(entry);
    this.size += 1;
  }

  delete(entry: Entry): void {
    const { names, key } = parameterKey(entry.rule.triggerParameters);
    const namesKey = JSON.stringify(names);
    const byKey = this.byNames.get(namesKey);
    const group = byKey?.groups.get(key);
    if (byKey === undefined || group === undefined) return;
    group.delete(entry);
    this.size -= 1;
    if (group.size === 0) byKey.groups.delete(key);
    if (byKey.groups.size === 0) this.byNames.delete(namesKey);
  }

  collect(event: ReflexEvent, ctx: EventContext, out: Entry[]): void {
    for (const { names, groups } of this.byNames.values()) {
      const key = projectParameters(event.triggerParameters, names);
      if (key === undefined) continue;
      groups.get(key)?.collect(ctx, out);
    }
  }
}

function byRef(a: Entry, b: Entry): number {
  return a.rule.ref < b.rule.ref ? -1 : a.rule.ref > b.rule.ref ? 1 : 0;
}

function byOrder(a: Entry, b: Entry): number {
  return a.order - b.order;
}

/** Compiled rules, indexed for matching events. Not thread-shared: one per engine. */
export class RuleSet {
  readonly #options: CompileOptions;
  readonly #rules = new Map<string, CompiledRule>();
  /** The indexed (enabled) rules. */
  readonly #entries = new Map<string, Entry>();
  readonly #byType = new Map<string, TypeBucket>();
  /** Whether `Entry.order` must be renumbered before the next lookup (a rule came or went). */
  #unordered = false;

  constructor(options: CompileOptions = {}) {
    this.#options = options;
  }

  /** Every rule held, enabled or not. */
  get size(): number {
    return this.#rules.size;
  }

  get(ref: string): CompiledRule | undefined {
    return this.#rules.get(ref);
  }

  values(): IterableIterator<CompiledRule> {
    return this.#rules.values();
  }

  /**
   * Compiles `rule` and adds it, replacing a rule with the same ref. Throws ValidationError when
   * the rule is invalid; the set is then unchanged (the previous version stays).
   */
  upsert(rule: Rule): CompiledRule {
    const compiled = compileRule(rule, this.#options);
    this.remove(compiled.ref);
    this.#rules.set(compiled.ref, compiled);
    if (compiled.enabled) {
      let bucket = this.#byType.get(compiled.triggerType);
      if (bucket === undefined) {
        bucket = new TypeBucket();
        this.#byType.set(compiled.triggerType, bucket);
      }
      const entry: Entry = { rule: compiled, order: 0 };
      this.#entries.set(compiled.ref, entry);
      bucket.add(entry);
      this.#unordered = true;
    }
    return compiled;
  }

  /** Removes the rule; false when there was none with that ref. */
  remove(ref: string): boolean {
    const existing = this.#rules.get(ref);
    if (existing === undefined) return false;
    this.#rules.delete(ref);
    const entry = this.#entries.get(ref);
    if (entry !== undefined) {
      this.#entries.delete(ref);
      const bucket = this.#byType.get(existing.triggerType);
      if (bucket !== undefined) {
        bucket.delete(entry);
        if (bucket.size === 0) this.#byType.delete(existing.triggerType);
      }
    }
    return true;
  }

  clear(): void {
    this.#rules.clear();
    this.#entries.clear();
    this.#byType.clear();
  }

  /** Ranks the indexed rules by ref, so candidates sort by a number instead of by string. */
  #order(): void {
    const entries = [...this.#entries.values()].sort(byRef);
    entries.forEach((entry, i) => {
      entry.order = i;
    });
    this.#unordered = false;
  }

  #candidates(event: ReflexEvent, ctx: EventContext): Entry[] {
    const out: Entry[] = [];
    this.#byType.get(event.type)?.collect(event, ctx, out);
    if (out.length > 1) {
      if (this.#unordered) this.#order();
      out.sort(byOrder);
    }
    return out;
  }

  /**
   * The enabled rules whose trigger (type and parameters) fits the event and whose equality
   * predicates its payload satisfies, by ref. Their criteria still decide.
   */
  candidates(event: ReflexEvent): CompiledRule[] {
    return this.#candidates(event, eventContext(event)).map((entry) => entry.rule);
  }

  /** Evaluates every candidate's criteria: matched or not, and why evaluation failed. */
  match(event: ReflexEvent): MatchResult[] {
    const ctx = eventContext(event);
    const entries = this.#candidates(event, ctx);
    const out = new Array<MatchResult>(entries.length);
    for (let i = 0; i < entries.length; i += 1) {
      const rule = entries[i]!.rule;
      const result = rule.evaluate(ctx);
      out[i] = result.error === undefined ? { rule, matched: result.matched } : { rule, matched: result.matched, error: result.error };
    }
    return out;
  }
}
