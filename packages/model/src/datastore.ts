/**
 * The datastore as people and rules see it: JSON values under a scope and a name, optionally
 * secret (sealed at rest, masked on the way out) and optionally expiring. Scopes a user may touch
 * are `system` and one per pack (`pack:<name>`); services keep their own small state in other
 * scopes, which the API never exposes.
 */
import { ValidationError } from './errors.ts';
import type { JsonObject, JsonValue } from './json.ts';
import { PACK_NAME_PATTERN } from './refs.ts';

/** What a masked secret reads as, everywhere (API answers, stored executions, the CLI). */
export const SECRET_MASK = '********';

/** `system`, or `pack:<pack name>`. */
export const KV_SCOPE_PATTERN = `^(system|pack:${PACK_NAME_PATTERN.slice(1, -1)})$`;
/** A key name: letters, digits and `_ . : @ -`, up to 256 characters (no `/`, so it fits one path segment). */
export const KV_NAME_PATTERN = '^[A-Za-z0-9_][A-Za-z0-9_.:@-]{0,255}$';
/** Largest value, as JSON text (a datastore is for settings and secrets, not for files). */
export const KV_VALUE_MAX_BYTES = 256 * 1024;
/** Longest TTL: ten years. */
export const KV_TTL_MAX_SECONDS = 10 * 365 * 24 * 3600;

const scopeRe = new RegExp(KV_SCOPE_PATTERN);
const nameRe = new RegExp(KV_NAME_PATTERN);

export type KvScope = { kind: 'system' } | { kind: 'pack'; pack: string };

export function kvScopeOfPack(pack: string): string {
  return `pack:${pack}`;
}

/**
 * What pack code asks of its own pack's datastore scope (`pack:<pack>`) through `ctx.kv`: a sensor
 * through the sensors service, a `nodejs` action through its runner. The service that holds the
 * store checks and carries it out (`packKv` of @reflex/runtime).
 */
export type PackKvRequest =
  | { op: 'get'; name: string }
  | { op: 'put'; name: string; value: JsonValue; ttlSeconds?: number }
  | { op: 'delete'; name: string };

/** Reads a user scope; throws ValidationError naming `field` for anything else (internal scopes included). */
export function parseKvScope(scope: string, field = 'scope'): KvScope {
  if (!scopeRe.test(scope)) {
    throw new ValidationError(`${field} must be 'system' or 'pack:<pack name>'`, [
      { field, message: `'${scope.slice(0, 100)}' is not a datastore scope: use 'system' or 'pack:<pack name>'` },
    ]);
  }
  return scope === 'system' ? { kind: 'system' } : { kind: 'pack', pack: scope.slice('pack:'.length) };
}

export function checkKvName(name: string, field = 'name'): void {
  if (!nameRe.test(name)) {
    throw new ValidationError(`${field} is not a key name`, [
      { field, message: `must match ${KV_NAME_PATTERN} (letters, digits, _ . : @ -; at most 256 characters)` },
    ]);
  }
}

/** Body of `PUT /v1/keys/:scope/:name`. `ttlSeconds` and `expiresAt` exclude each other. */
export interface KeyInput {
  value: JsonValue;
  /** Sealed at rest (AES-256-GCM); answers show SECRET_MASK unless asked to decrypt. */
  secret?: boolean;
  ttlSeconds?: number;
  expiresAt?: string;
}

export const keyInputSchema = {
  $id: 'reflex:key-input',
  type: 'object',
  additionalProperties: false,
  required: ['value'],
  properties: {
    value: {},
    secret: { type: 'boolean' },
    ttlSeconds: { type: 'integer', minimum: 1, maximum: KV_TTL_MAX_SECONDS },
    expiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

/** A datastore entry as the API shows it. */
export interface KeyView {
  scope: string;
  name: string;
  /** SECRET_MASK for a secret, unless it was decrypted for an authorised caller. */
  value: JsonValue;
  secret: boolean;
  expiresAt?: string;
  updatedAt: string;
}

/**
 * What templates see as `kv`: `kv.system.<name>` and `kv.pack.<name>` (the rule's own pack).
 * Only the keys a rule's templates name are loaded; a secret is there decrypted (the action needs
 * it) and masked wherever the execution is stored.
 */
export interface KvContext {
  system: JsonObject;
  pack: JsonObject;
}
