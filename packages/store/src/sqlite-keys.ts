/** The datastore on SQLite (migration 4): one row per (scope, name), JSON in `doc`. */
import { checkKeyEntry, keyLimit, likePrefix } from './keys.ts';
import type { SqliteOps } from './sqlite-ops.ts';
import type { KeyEntry, KeyRepo } from './store.ts';

function parse(doc: unknown): KeyEntry {
  if (typeof doc !== 'string') throw new TypeError('kv row has no JSON document');
  return JSON.parse(doc) as KeyEntry;
}

export function sqliteKeys(ops: SqliteOps): KeyRepo {
  return {
    async get(scope, name) {
      const row = ops.get('SELECT doc FROM kv WHERE scope = ? AND name = ? AND (expires_ms IS NULL OR expires_ms > ?)', scope, name, Date.now());
      return row === undefined ? null : parse(row['doc']);
    },
    async put(input) {
      const { entry, expiresMs } = checkKeyEntry(input);
      ops.run(
        `INSERT INTO kv (scope, name, expires_ms, doc) VALUES (?, ?, ?, ?)
         ON CONFLICT (scope, name) DO UPDATE SET expires_ms = excluded.expires_ms, doc = excluded.doc`,
        entry.scope,
        entry.name,
        expiresMs,
        JSON.stringify(entry),
      );
      return entry;
    },
    async delete(scope, name) {
      return ops.run('DELETE FROM kv WHERE scope = ? AND name = ?', scope, name) > 0;
    },
    async list(scope, options) {
      const rows = ops.all(
        `SELECT doc FROM kv WHERE scope = ? AND name LIKE ? ESCAPE '\\' AND (expires_ms IS NULL OR expires_ms > ?) ORDER BY name LIMIT ?`,
        scope,
        likePrefix(options?.prefix ?? ''),
        Date.now(),
        keyLimit(options?.limit),
      );
      return rows.map((row) => parse(row['doc']));
    },
  };
}
