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
import { valueKeys } from './equality.ts';
import { resolveVar } from './paths.ts';
import { parameterKey, projectParameters } from './trigger.ts';

export interface MatchResult {
  rule: CompiledRule;
  matched: boolean;
  /** Why the criteria could not be evaluated (then `matched` is false). */
  error?: ErrorJson;
}

/** Where a rule sits inside its group. */
type Placement = { kind: 'open' } | { kind: 'equality'; path: string; keys: readonly string[] };

/** Rules that share a trigger type and the same trigger parameters. */
class Group {
  readonly open = new Set<CompiledRule>();
  /** path → literal key → rules. */
  readonly byPath = new Map<string, Map<string, Set<CompiledRule>>>();
  readonly placements = new Map<string, Placement>();

  get size(): number {
    return this.placements.size;
  }

  add(rule: CompiledRule): void {
    const predicate = this.choose(rule.equalities);
    if (predicate === undefined) {
      this.open.add(rule);
      this.placements.set(rule.ref, { kind: 'open' });
      return;
    }
    let byKey = this.byPath.get(predicate.path);
    if (byKey === undefined) {
      byKey = new Map();
      this.byPath.set(predicate.path, byKey);
    }
    for (const key of predicate.keys) {
      let rules = byKey.get(key);
      if (rules === undefined) {
        rules = new Set();
        byKey.set(key, rules);
      }
      rules.add(rule);
    }
    this.placements.set(rule.ref, { kind: 'equality', path: predicate.path, keys: predicate.keys });
  }

  /** Prefers a path the group already indexes, so events resolve as few paths as possible. */
  private choose(predicates: readonly EqualityPredicate[]): EqualityPredicate | undefined {
    return predicates.find((p) => this.byPath.has(p.path)) ?? predicates[0];
  }

  delete(rule: CompiledRule): void {
    const placement = this.placements.get(rule.ref);
    if (placement === undefined) return;
    this.placements.delete(rule.ref);
    if (placement.kind === 'open') {
      this.open.delete(rule);
      return;
    }
    const byKey = this.byPath.get(placement.path);
    if (byKey === undefined) return;
    for (const key of placement.keys) {
      const rules = byKey.get(key);
      if (rules === undefined) continue;
      rules.delete(rule);
      if (rules.size === 0) byKey.delete(key);
    }
    if (byKey.size === 0) this.byPath.delete(placement.path);
  }

  collect(ctx: EventContext, out: CompiledRule[]): void {
    for (const rule of this.open) out.push(rule);
    for (const [path, byKey] of this.byPath) {
      // Paths were validated at compile time; resolveVar reads them as json-logic's `var` does.
      for (const key of valueKeys(resolveVar(ctx, path))) {
        const rules = byKey.get(key);
        if (rules !== undefined) for (const rule of rules) out.push(rule);
      }
    }
  }
}

/** One trigger type: groups by the names, then the canonical values, of trigger parameters. */
class TypeBucket {
  /** JSON of the sorted name list → names and groups by canonical parameters. */
  readonly byNames = new Map<string, { names: string[]; groups: Map<string, Group> }>();
  size = 0;

  add(rule: CompiledRule): void {
    const { names, key } = parameterKey(rule.triggerParameters);
    const namesKey = JSON.stringify(names);
    let entry = this.byNames.get(namesKey);
    if (entry === undefined) {
      entry = { names, groups: new Map() };
      this.byNames.set(namesKey, entry);
    }
    let group = entry.groups.get(key);
    if (group === undefined) {
      group = new Group();
      entry.groups.set(key, group);
    }
    group.add(rule);
    this.size += 1;
  }

  delete(rule: CompiledRule): void {
    const { names, key } = parameterKey(rule.triggerParameters);
    const namesKey = JSON.stringify(names);
    const entry = this.byNames.get(namesKey);
    const group = entry?.groups.get(key);
    if (entry === undefined || group === undefined) return;
    group.delete(rule);
    this.size -= 1;
    if (group.size === 0) entry.groups.delete(key);
    if (entry.groups.size === 0) this.byNames.delete(namesKey);
  }

  collect(event: ReflexEvent, ctx: EventContext, out: CompiledRule[]): void {
    for (const { names, groups } of this.byNames.values()) {
      const key = projectParameters(event.triggerParameters, names);
      if (key === undefined) continue;
      groups.get(key)?.collect(ctx, out);
    }
  }
}

function byRef(a: CompiledRule, b: CompiledRule): number {
  return a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0;
}

/** Compiled rules, indexed for matching events. Not thread-shared: one per engine. */
export class RuleSet {
  readonly #options: CompileOptions;
  readonly #rules = new Map<string, CompiledRule>();
  readonly #byType = new Map<string, TypeBucket>();

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
      bucket.add(compiled);
    }
    return compiled;
  }

  /** Removes the rule; false when there was none with that ref. */
  remove(ref: string): boolean {
    const existing = this.#rules.get(ref);
    if (existing === undefined) return false;
    this.#rules.delete(ref);
    const bucket = this.#byType.get(existing.triggerType);
    if (bucket !== undefined && existing.enabled) {
      bucket.delete(existing);
      if (bucket.size === 0) this.#byType.delete(existing.triggerType);
    }
    return true;
  }

  clear(): void {
    this.#rules.clear();
    this.#byType.clear();
  }

  #candidates(event: ReflexEvent, ctx: EventContext): CompiledRule[] {
    const out: CompiledRule[] = [];
    this.#byType.get(event.type)?.collect(event, ctx, out);
    return out.sort(byRef);
  }

  /**
   * The enabled rules whose trigger (type and parameters) fits the event and whose equality
   * predicates its payload satisfies, by ref. Their criteria still decide.
   */
  candidates(event: ReflexEvent): CompiledRule[] {
    return this.#candidates(event, eventContext(event));
  }

  /** Evaluates every candidate's criteria: matched or not, and why evaluation failed. */
  match(event: ReflexEvent): MatchResult[] {
    const ctx = eventContext(event);
    return this.#candidates(event, ctx).map((rule) => {
      const result = rule.evaluate(ctx);
      return result.error === undefined
        ? { rule, matched: result.matched }
        : { rule, matched: result.matched, error: result.error };
    });
  }
}
