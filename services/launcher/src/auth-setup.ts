/**
 * What the API needs for auth before it starts: the secrets key (REFLEX_SECRETS_KEY, else
 * `<dataDir>/secrets.key`, made on first start) and, on a store that has never had an API key, a
 * first admin key written to `<dataDir>/admin.key` (mode 0600). The log says where the key is,
 * never the key.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { hashKey, newKeySecret, newSecretsKey, SECRETS_KEY_BYTES } from '@reflex/auth';
import { newId, ReflexError } from '@reflex/model';
import { ENV, type ReflexConfig } from '@reflex/runtime';
import type { Store } from '@reflex/store';

export const ADMIN_KEY_FILE = 'admin.key';
export const SECRETS_KEY_FILE = 'secrets.key';

/** Writes a file only its owner can read, atomically (a reader never sees half of it). */
function writePrivate(path: string, text: string): void {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  writeFileSync(temp, text, { mode: 0o600, flag: 'wx' });
  chmodSync(temp, 0o600); // the umask may have narrowed it further; never wider
  renameSync(temp, path);
}

function decodeKey(text: string, where: string): Buffer {
  const key = Buffer.from(text.trim(), 'base64');
  if (key.length !== SECRETS_KEY_BYTES) {
    throw new ReflexError('SECRETS_KEY_INVALID', `${where} must hold ${SECRETS_KEY_BYTES} bytes, base64-encoded`);
  }
  return key;
}

export function loadSecretsKey(config: ReflexConfig, logger: Logger): Buffer {
  if (config.secretsKey !== '') return decodeKey(config.secretsKey, ENV.secretsKey);
  const path = join(config.dataDir, SECRETS_KEY_FILE);
  if (existsSync(path)) return decodeKey(readFileSync(path, 'utf8'), path);
  mkdirSync(config.dataDir, { recursive: true });
  const key = newSecretsKey();
  writePrivate(path, `${key.toString('base64')}\n`);
  logger.info({ file: path }, 'created the secrets key that seals webhook and datastore secrets');
  if (config.mongodbUrl !== '') {
    logger.warn({ file: path }, `API replicas and rules engines that share this store need the same secrets key: set ${ENV.secretsKey} to this file's content on every one`);
  }
  return key;
}

/** On a store that never had an API key, makes an admin key and writes it to `<dataDir>/admin.key`. */
export async function ensureAdminKey(config: ReflexConfig, store: Store, logger: Logger): Promise<void> {
  const path = join(config.dataDir, ADMIN_KEY_FILE);
  const keys = await store.apiKeys.list({ kind: 'key', includeRevoked: true });
  if (keys.length > 0) {
    if (existsSync(path)) logger.info({ file: path }, 'authentication is on; the first admin API key is in this file');
    return;
  }
  mkdirSync(config.dataDir, { recursive: true });
  const id = newId();
  const key = newKeySecret(id);
  await store.apiKeys.insert({ id, name: 'admin', role: 'admin', kind: 'key', hash: hashKey(key), createdAt: new Date().toISOString() });
  writePrivate(path, `${key}\n`);
  logger.warn(
    { file: path },
    `authentication is on: created the first admin API key in ${path} (readable only by you); use it as: curl -H "Authorization: Bearer $(cat ${path})" …`,
  );
}

export interface ApiAuth {
  enabled: boolean;
  secretsKey: Buffer;
}

export async function prepareAuth(config: ReflexConfig, store: Store, logger: Logger, secretsKey = loadSecretsKey(config, logger)): Promise<ApiAuth> {
  if (config.auth === 'off') return { enabled: false, secretsKey }; // buildApi warns on every start
  await ensureAdminKey(config, store, logger);
  return { enabled: true, secretsKey };
}
