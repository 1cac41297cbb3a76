/**
 * Datastore keys for parameter templates. A compiled rule says which keys its templates read
 * (`kv.system.<name>`, `kv.pack.<name>` of its own pack); before rendering, the engine loads those
 * keys — from a short-lived cache, dropped entry by entry when the API announces a write on
 * `<prefix>.control.keys` — and opens secrets with the secrets key. The secrets go with the view so
 * that what is stored can be masked (enforce.ts); the action itself gets them in full.
 */
import { openKeyValue } from '@reflex/auth';
import { kvScopeOfPack, ReflexError, toErrorJson, type BusNames, type ErrorJson, type JsonValue, type KvContext } from '@reflex/model';
import type { Bus, Subscription } from '@reflex/bus';
import type { CompiledRule } from '@reflex/rules';
import { onChange } from '@reflex/runtime';
import type { KeyEntry, Store } from '@reflex/store';

/** What one rule's templates may read, or why they cannot. */
export type RuleKv = { kv: KvContext; secrets: JsonValue[] } | { error: ErrorJson };

export interface KvCacheOptions {
  store: Store;
  /** Opens datastore secrets; without it a rule that reads a secret fails its enforcement, saying so. */
  secretsKey?: Uint8Array;
  /** How long a key read from the store is trusted without a change notice. Default 10 s. */
  ttlMs?: number;
  now?: () => number;
}

const DEFAULT_TTL_MS = 10_000;

function cacheKey(scope: string, name: string): string {
  return `${scope}/${name}`;
}

function needs(rule: CompiledRule): boolean {
  return rule.kv.system.length > 0 || rule.kv.pack.length > 0;
}

export class KvCache {
  readonly #store: Store;
  readonly #secretsKey: Uint8Array | undefined;
  readonly #ttlMs: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { entry: KeyEntry | null; loadedAt: number }>();

  constructor(options: KvCacheOptions) {
    this.#store = options.store;
    this.#secretsKey = options.secretsKey;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#now = options.now ?? Date.now;
  }

  /** Drops one key (`<scope>/<name>`), or every key. */
  invalidate(ref?: string): void {
    if (ref === undefined) this.#entries.clear();
    else this.#entries.delete(ref);
  }

  /** Drops keys as the API announces writes. */
  subscribe(bus: Bus, names: BusNames): Subscription[] {
    return onChange(bus, names, ['keys'], (notice) => this.invalidate(notice.ref));
  }

  async #get(scope: string, name: string): Promise<KeyEntry | null> {
    const now = this.#now();
    const key = cacheKey(scope, name);
    let cached = this.#entries.get(key);
    if (cached === undefined || now - cached.loadedAt >= this.#ttlMs) {
      cached = { entry: await this.#store.keys.get(scope, name), loadedAt: now };
      if (this.#entries.size > 10_000) this.#entries.clear();
      this.#entries.set(key, cached);
    }
    const entry = cached.entry;
    return entry !== null && entry.expiresAt !== undefined && Date.parse(entry.expiresAt) <= now ? null : entry;
  }

  #value(entry: KeyEntry, secrets: JsonValue[]): JsonValue {
    if (entry.secret !== true) return entry.value;
    if (this.#secretsKey === undefined) {
      throw new ReflexError('SECRET_UNREADABLE', `datastore secret '${entry.scope}/${entry.name}' cannot be opened: this rules engine has no secrets key`);
    }
    const value = openKeyValue(this.#secretsKey, entry.scope, entry.name, entry.value);
    secrets.push(value);
    return value;
  }

  /**
   * The kv view of each rule that reads keys (rules that read none are not in the map). A store
   * failure is thrown (the event is redelivered); a secret that cannot be opened fails that rule only.
   */
  async forRules(rules: readonly CompiledRule[]): Promise<Map<string, RuleKv>> {
    const out = new Map<string, RuleKv>();
    const readers = rules.filter(needs);
    if (readers.length === 0) return out;
    const wanted = new Map<string, { scope: string; name: string }>();
    for (const rule of readers) {
      for (const name of rule.kv.system) wanted.set(cacheKey('system', name), { scope: 'system', name });
      const packScope = kvScopeOfPack(rule.rule.pack);
      for (const name of rule.kv.pack) wanted.set(cacheKey(packScope, name), { scope: packScope, name });
    }
    const loaded = new Map<string, KeyEntry | null>();
    await Promise.all([...wanted].map(async ([key, { scope, name }]) => loaded.set(key, await this.#get(scope, name))));
    for (const rule of readers) {
      const kv: KvContext = { system: {}, pack: {} };
      const secrets: JsonValue[] = [];
      try {
        for (const [scope, names, into] of [
          ['system', rule.kv.system, kv.system],
          [kvScopeOfPack(rule.rule.pack), rule.kv.pack, kv.pack],
        ] as const) {
          for (const name of names) {
            const entry = loaded.get(cacheKey(scope, name));
            if (entry !== null && entry !== undefined) into[name] = this.#value(entry, secrets);
          }
        }
        out.set(rule.ref, { kv, secrets });
      } catch (err) {
        out.set(rule.ref, { error: toErrorJson(err) });
      }
    }
    return out;
  }
}
