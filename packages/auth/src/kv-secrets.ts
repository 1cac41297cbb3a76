/**
 * Datastore secrets: a secret value (any JSON) is sealed with the installation's secrets key, bound
 * to its scope and name (a sealed value copied onto another key does not open), and masked wherever
 * it could otherwise be read back: API answers, stored execution parameters.
 */
import { ReflexError, SECRET_MASK, type ErrorJson, type JsonValue } from '@reflex/model';
import { openSecret, sealSecret } from './seal.ts';

function aadOf(scope: string, name: string): string {
  return `kv:${scope}:${name}`;
}

export function sealKeyValue(key: Uint8Array, scope: string, name: string, value: JsonValue): string {
  return sealSecret(key, JSON.stringify(value), aadOf(scope, name));
}

/** The value; ReflexError SECRET_UNREADABLE when the key is wrong or the sealed text was changed or moved. */
export function openKeyValue(key: Uint8Array, scope: string, name: string, sealed: JsonValue): JsonValue {
  if (typeof sealed !== 'string') throw new ReflexError('SECRET_UNREADABLE', `datastore secret '${scope}/${name}' is not sealed text`);
  try {
    return JSON.parse(openSecret(key, sealed, aadOf(scope, name))) as JsonValue;
  } catch (err) {
    if (err instanceof ReflexError) {
      throw new ReflexError('SECRET_UNREADABLE', `datastore secret '${scope}/${name}' cannot be opened: ${err.message}`, { cause: err });
    }
    throw new ReflexError('SECRET_UNREADABLE', `datastore secret '${scope}/${name}' is not JSON once opened`, { cause: err });
  }
}

/** Seals and opens datastore values with one key: what services hand to code that must not hold the key itself. */
export interface KvSealing {
  seal(scope: string, name: string, value: JsonValue): string;
  open(scope: string, name: string, sealed: JsonValue): JsonValue;
}

/** `sealKeyValue` and `openKeyValue` bound to `key` (e.g. for `packConfigs` of @reflex/packs). */
export function kvSealing(key: Uint8Array): KvSealing {
  return {
    seal: (scope, name, value) => sealKeyValue(key, scope, name, value),
    open: (scope, name, sealed) => openKeyValue(key, scope, name, sealed),
  };
}

function canonical(value: JsonValue): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return `{${Object.keys(value)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonical(value[k] as JsonValue)}`)
    .join(',')}}`;
}

/** Every string a secret could show up as inside text: itself, its JSON, and its string leaves. */
function textsOf(secret: JsonValue, out: Set<string>): void {
  if (typeof secret === 'string') {
    if (secret !== '') out.add(secret);
    return;
  }
  if (secret === null || typeof secret !== 'object') {
    out.add(JSON.stringify(secret));
    return;
  }
  out.add(JSON.stringify(secret));
  for (const item of Array.isArray(secret) ? secret : Object.values(secret)) {
    if (typeof item === 'string' || (item !== null && typeof item === 'object')) textsOf(item, out);
  }
}

export interface SecretMasker {
  /** `value` with every secret replaced by SECRET_MASK: a whole value equal to one, or its text inside a string. */
  mask(value: JsonValue): JsonValue;
  /** Would `mask` change `value`? */
  touches(value: JsonValue): boolean;
}

/**
 * Masks the given secret values. A value (or a part of it) deep-equal to a secret becomes
 * SECRET_MASK; inside strings, the text of every secret (longest first) is replaced by it.
 */
export function secretMasker(secrets: readonly JsonValue[]): SecretMasker {
  const whole = new Set(secrets.filter((s) => s !== null && typeof s !== 'boolean').map(canonical));
  const texts = new Set<string>();
  for (const s of secrets) if (s !== null && typeof s !== 'boolean') textsOf(s, texts);
  // Booleans and null are never masked inside text or by value: `true` is not a secret anyone can keep.
  const ordered = [...texts].sort((a, b) => b.length - a.length);
  const maskText = (text: string): string => {
    let out = text;
    for (const t of ordered) if (out.includes(t)) out = out.split(t).join(SECRET_MASK);
    return out;
  };
  const mask = (value: JsonValue): JsonValue => {
    if (whole.size === 0) return value;
    if (value !== null && typeof value !== 'boolean' && whole.has(canonical(value))) return SECRET_MASK;
    if (typeof value === 'string') return maskText(value);
    if (Array.isArray(value)) return value.map(mask);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of Object.entries(value)) out[k] = mask(v);
      return out;
    }
    return value;
  };
  return { mask, touches: (value) => canonical(mask(value)) !== canonical(value) };
}

/** An error as JSON with every secret masked in its message and details. */
export function maskErrorJson(error: ErrorJson, masker: SecretMasker): ErrorJson {
  const text = (value: string): string => String(masker.mask(value));
  const masked: ErrorJson = { ...error, message: text(error.message) };
  if (error.details !== undefined) masked.details = error.details.map((d) => ({ field: d.field, message: text(d.message) }));
  return masked;
}
