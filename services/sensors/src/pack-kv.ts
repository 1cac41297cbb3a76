/**
 * `ctx.kv` of a pack sensor: the pack's own datastore scope (`pack:<pack>`, what rules read as
 * `kv.pack.<name>` and `reflex key … --pack` writes), nothing else. Writes are announced like the
 * API's, so rules engines drop what they cached. A secret is readable only when the service was
 * given a way to open it.
 */
import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import {
  checkKvName,
  KV_TTL_MAX_SECONDS,
  KV_VALUE_MAX_BYTES,
  kvScopeOfPack,
  ReflexError,
  ValidationError,
  type BusNames,
  type JsonValue,
} from '@reflex/model';
import { notifyChange } from '@reflex/runtime';
import type { KeyEntry, Store } from '@reflex/store';
import type { KvRequest } from './host-protocol.ts';

export interface PackKvDeps {
  store: Store;
  bus: Bus;
  names: BusNames;
  logger: Logger;
  /** Opens a sealed value; without it a sensor cannot read secrets. */
  openSecret?: (entry: KeyEntry) => JsonValue;
}

export async function packKv(deps: PackKvDeps, pack: string, request: KvRequest): Promise<JsonValue> {
  const scope = kvScopeOfPack(pack);
  checkKvName(request.name, 'name');
  if (request.op === 'get') {
    const entry = await deps.store.keys.get(scope, request.name);
    if (entry === null) return null;
    if (entry.secret !== true) return entry.value;
    if (deps.openSecret === undefined) {
      throw new ReflexError('SECRET_UNREADABLE', `'${request.name}' is a secret; sensors cannot read secrets here (the sensors service has no secrets key)`);
    }
    return deps.openSecret(entry);
  }
  if (request.op === 'put') {
    if (Buffer.byteLength(JSON.stringify(request.value)) > KV_VALUE_MAX_BYTES) {
      throw new ValidationError(`the value of '${request.name}' is larger than ${KV_VALUE_MAX_BYTES} bytes`, [{ field: 'value', message: `at most ${KV_VALUE_MAX_BYTES} bytes of JSON` }]);
    }
    const ttl = request.ttlSeconds;
    if (ttl !== undefined && (!Number.isInteger(ttl) || ttl < 1 || ttl > KV_TTL_MAX_SECONDS)) {
      throw new ValidationError('ttlSeconds must be a whole number of seconds', [{ field: 'ttlSeconds', message: `an integer from 1 to ${KV_TTL_MAX_SECONDS}` }]);
    }
    await deps.store.keys.put({ scope, name: request.name, value: request.value, ...(ttl === undefined ? {} : { expiresAt: new Date(Date.now() + ttl * 1000).toISOString() }) });
    await announce(deps, 'update', scope, request.name);
    return null;
  }
  const deleted = await deps.store.keys.delete(scope, request.name);
  if (deleted) await announce(deps, 'delete', scope, request.name);
  return deleted;
}

async function announce(deps: PackKvDeps, op: 'update' | 'delete', scope: string, name: string): Promise<void> {
  try {
    await notifyChange(deps.bus, deps.names, { topic: 'keys', op, ref: `${scope}/${name}` });
  } catch (err) {
    deps.logger.warn({ err, scope, name }, 'could not announce a datastore change');
  }
}
