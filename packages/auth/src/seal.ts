/**
 * Secrets Reflex must be able to read back (webhook HMAC secrets) are sealed with AES-256-GCM
 * under the installation's secrets key, bound to what they belong to (`aad`, e.g. the webhook url)
 * so a sealed value copied onto another record does not open. Format: `v1.<iv>.<tag>.<ciphertext>`,
 * base64url parts.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ReflexError } from '@reflex/model';

export const SECRETS_KEY_BYTES = 32;

function checkKey(key: Uint8Array): void {
  if (key.length !== SECRETS_KEY_BYTES) throw new ReflexError('SECRETS_KEY_INVALID', `the secrets key must be ${SECRETS_KEY_BYTES} bytes`);
}

export function newSecretsKey(): Buffer {
  return randomBytes(SECRETS_KEY_BYTES);
}

export function sealSecret(key: Uint8Array, plaintext: string, aad: string): string {
  checkKey(key);
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', iv, cipher.getAuthTag(), ciphertext].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** The plaintext; ReflexError SECRET_UNREADABLE when the key is wrong or the value was changed. */
export function openSecret(key: Uint8Array, sealed: string, aad: string): string {
  checkKey(key);
  const [version, iv, tag, ciphertext] = sealed.split('.');
  if (version !== 'v1' || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new ReflexError('SECRET_UNREADABLE', 'sealed secret has an unknown format');
  }
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
  } catch (err) {
    throw new ReflexError('SECRET_UNREADABLE', 'sealed secret cannot be opened (wrong secrets key, or it was changed)', { cause: err });
  }
}
