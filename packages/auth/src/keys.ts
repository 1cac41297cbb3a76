/**
 * API keys and tokens: `rfx_<id>_<secret>`, where the id (a ULID) finds the record and the secret
 * is 32 random bytes (base64url). Only the SHA-256 of the whole string is stored; with 256 bits of
 * entropy a fast hash is enough (there is nothing to brute-force), and comparing hashes in
 * constant time leaks nothing about the stored one.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

export const KEY_PREFIX = 'rfx_';
const KEY_RE = /^rfx_([0-9A-HJKMNP-TV-Z]{26})_([A-Za-z0-9_-]{43})$/;

/** A new key string for the record `id`; show it once, store `hashKey(key)`. */
export function newKeySecret(id: string): string {
  return `${KEY_PREFIX}${id}_${randomBytes(32).toString('base64url')}`;
}

/** The record id inside a presented key, or null when it is not shaped like one of ours. */
export function keyIdOf(presented: string): string | null {
  const match = KEY_RE.exec(presented);
  return match === null ? null : (match[1] ?? null);
}

/** Hex SHA-256 of a key or token string. */
export function hashKey(key: string): string {
  return createHash('sha256').update(key, 'utf8').digest('hex');
}

/** Compares two hex digests in constant time (for their length, which is public). */
export function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && left.length > 0 && timingSafeEqual(left, right);
}

/** True when `presented` hashes to `hash`, compared in constant time. */
export function keyMatches(presented: string, hash: string): boolean {
  return sameDigest(hashKey(presented), hash);
}
