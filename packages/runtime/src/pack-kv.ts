/**
 * `ctx.kv` of pack code (a sensor, a `nodejs` action): the pack's own datastore scope
 * (`pack:<pack>`, what rules read as `kv.pack.<name>` and `reflex key … --pack` writes), nothing
 * else. Writes are announced like the API's, so rules engines drop what they cached. A secret is
 * readable only when the service was given a way to open it.
 */
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
  type PackKvRequest,
} from '@reflex/model';
import type { KeyEntry, Store } from '@reflex/store';
import { notifyChange } from './protocol.ts';

export interface PackKvDeps {
  store: Store;
  bus: Bus;
  names: BusNames;
  /** Where a change that could not be announced is reported (a pino logger fits). */
  logger: { warn(obj: object, msg?: string): void };
  /** Who asks and who answers, for the error when a secret cannot be opened: `sensors` / `sensors`, `actions` / `action-runner`. */
  reader: string;
  service: string;
  /** Opens a sealed value; without it the pack code cannot read secrets. */
  openSecret?: (entry: KeyEntry) => JsonValue;
}

/** Carries out one request in the scope of `pack`: the value read (null when absent), null after a put, whether a delete removed one. */
export async function packKv(deps: PackKvDeps, pack: string, request: PackKvRequest): Promise<JsonValue> {
  const scope = kvScopeOfPack(pack);
  if (typeof request.name !== 'string') throw new ValidationError('name must be a string', [{ field: 'name', message: 'must be a string' }]);
  checkKvName(request.name, 'name');
  switch (request.op) {
    case 'get': {
      const entry = await deps.store.keys.get(scope, request.name);
      if (entry === null) return null;
      if (entry.secret !== true) return entry.value;
      if (deps.openSecret === undefined) {
        throw new ReflexError('SECRET_UNREADABLE', `'${request.name}' is a secret; ${deps.reader} cannot read secrets here (the ${deps.service} service has no secrets key)`);
      }
      return deps.openSecret(entry);
    }
    case 'put': {
      const text = JSON.stringify(request.value) as string | undefined;
      if (text === undefined) throw new ValidationError(`'${request.name}' needs a value`, [{ field: 'value', message: 'must be JSON' }]);
      if (Buffer.byteLength(text) > KV_VALUE_MAX_BYTES) {
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
    case 'delete': {
      const deleted = await deps.store.keys.delete(scope, request.name);
      if (deleted) await announce(deps, 'delete', scope, request.name);
      return deleted;
    }
    default:
      // Requests come from pack code's process as JSON: an op it made up is refused, not guessed at.
      throw new ValidationError('op must be get, put or delete', [{ field: 'op', message: `'${String((request as { op?: unknown }).op)}' is not get, put or delete` }]);
  }
}

async function announce(deps: PackKvDeps, op: 'update' | 'delete', scope: string, name: string): Promise<void> {
  try {
    await notifyChange(deps.bus, deps.names, { topic: 'keys', op, ref: `${scope}/${name}` });
  } catch (err) {
    deps.logger.warn({ err, scope, name }, 'could not announce a datastore change');
  }
}
