/**
 * Who is calling: the API key or token in `Authorization: Bearer <key>` (or `X-Reflex-Api-Key`),
 * checked against its stored SHA-256 in constant time, not revoked, not expired (a token's parent
 * key too). Records and roles are cached for a few seconds; every API replica drops its caches
 * when any of them announces a change of keys, roles or webhook auth (see notices.ts).
 */
import { BUILTIN_ROLES, isBuiltinRole, keyIdOf, keyMatches } from '@reflex/auth';
import { UnauthenticatedError, type ApiKey, type Role } from '@reflex/model';
import type { Store } from '@reflex/store';

export interface Principal {
  /** `anonymous` only when auth is off. */
  kind: 'apikey' | 'token' | 'anonymous';
  /** The key's (or token's) id. */
  id?: string;
  name: string;
  role: string;
  /** Tokens: the key they were minted from. */
  parentId?: string;
  /** Tokens: when they stop working. */
  expiresAt?: string;
}

export const ANONYMOUS: Principal = Object.freeze({ kind: 'anonymous', name: 'anonymous', role: 'admin' });

const CACHE_MS = 10_000;
const MAX_CACHED = 10_000;

interface Cached<T> {
  value: T;
  at: number;
}

type Headers = Record<string, string | string[] | undefined>;

/**
 * The key a request presents, if any: `Authorization: Bearer <key>`, else `X-Reflex-Api-Key`, else
 * whatever other Authorization it sends (which then fails: a Basic password is not a key).
 */
export function presentedKey(headers: Headers): string | undefined {
  const authorization = headers['authorization'];
  const bearer = typeof authorization === 'string' ? /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(authorization)?.[1] : undefined;
  if (bearer !== undefined) return bearer;
  const header = headers['x-reflex-api-key'];
  if (typeof header === 'string' && header !== '') return header;
  return typeof authorization === 'string' && authorization !== '' ? authorization : undefined;
}

function live(key: ApiKey | null, nowMs: number): key is ApiKey {
  return key !== null && key.revokedAt === undefined && (key.expiresAt === undefined || Date.parse(key.expiresAt) > nowMs);
}

export class Authenticator {
  readonly #store: Store;
  readonly #keys = new Map<string, Cached<ApiKey | null>>();
  readonly #roles = new Map<string, Cached<Role | null>>();
  /** Bumped by invalidate(): a lookup that started before it must not cache what it read. */
  #generation = 0;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Drops every cached key and role (after a change here or in another replica). */
  invalidate(): void {
    this.#generation++;
    this.#keys.clear();
    this.#roles.clear();
  }

  /**
   * The caller, or null when the request presents no key. A key that is malformed, unknown,
   * revoked or expired is an UnauthenticatedError; the message never says which, nor echoes it.
   */
  async authenticate(headers: Headers, nowMs = Date.now()): Promise<Principal | null> {
    const presented = presentedKey(headers);
    if (presented === undefined) return null;
    const invalid = new UnauthenticatedError('the API key is invalid, expired or revoked', 'UNAUTHENTICATED');
    const id = keyIdOf(presented);
    if (id === null) throw invalid;
    const key = await this.#key(id, nowMs);
    if (key === null || !keyMatches(presented, key.hash) || !live(key, nowMs)) throw invalid;
    if (key.kind === 'token') {
      const parent = key.parentId === undefined ? null : await this.#key(key.parentId, nowMs);
      if (!live(parent, nowMs)) throw invalid;
    }
    const principal: Principal = { kind: key.kind === 'token' ? 'token' : 'apikey', id: key.id, name: key.name, role: key.role };
    if (key.parentId !== undefined) principal.parentId = key.parentId;
    if (key.expiresAt !== undefined) principal.expiresAt = key.expiresAt;
    return principal;
  }

  /** A built-in or custom role; null when no role has that name (its holders may do nothing). */
  async role(name: string, nowMs = Date.now()): Promise<Role | null> {
    if (isBuiltinRole(name)) return BUILTIN_ROLES[name];
    return await this.#cached(this.#roles, name, nowMs, () => this.#store.roles.get(name));
  }

  async #key(id: string, nowMs: number): Promise<ApiKey | null> {
    return await this.#cached(this.#keys, id, nowMs, () => this.#store.apiKeys.get(id));
  }

  async #cached<T>(cache: Map<string, Cached<T>>, id: string, nowMs: number, load: () => Promise<T>): Promise<T> {
    const hit = cache.get(id);
    if (hit !== undefined && nowMs - hit.at < CACHE_MS) return hit.value;
    const generation = this.#generation;
    const value = await load();
    if (generation !== this.#generation) return value; // changed meanwhile: use it once, cache nothing
    if (cache.size >= MAX_CACHED) cache.clear();
    cache.set(id, { value, at: nowMs });
    return value;
  }
}
