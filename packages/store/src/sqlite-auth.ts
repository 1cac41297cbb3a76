/**
 * API keys, custom roles, the audit trail and webhook authentication on SQLite (migration 3).
 * Records are JSON in `doc`; filtered and sorted fields are copied into indexed columns.
 */
import type { SQLInputValue } from 'node:sqlite';
import { ConflictError, type ApiKey, type AuditEntry, type Role, type WebhookAuth } from '@reflex/model';
import { pageQuery, toPage } from './cursor.ts';
import type { Row, SqliteOps } from './sqlite-ops.ts';
import type { ApiKeyFilter, ApiKeyRepo, AuditFilter, AuditRepo, RoleRepo, WebhookAuthRepo } from './store.ts';
import { sqliteKeyedDocs } from './keyed-docs.ts';
import { timeOf } from './time.ts';

function docOf<T>(row: Row | undefined): T | null {
  if (row === undefined) return null;
  const doc = row['doc'];
  if (typeof doc !== 'string') throw new TypeError('store row has no JSON document');
  return JSON.parse(doc) as T;
}

function docsOf<T>(rows: Row[]): T[] {
  return rows.map((row) => docOf<T>(row) as T);
}

/** A filter as SQL: conditions joined with AND, and their parameters in order. */
class Conditions {
  readonly #conditions: string[] = [];
  readonly params: SQLInputValue[] = [];

  add(condition: string, ...params: SQLInputValue[]): void {
    this.#conditions.push(condition);
    this.params.push(...params);
  }

  toString(): string {
    return this.#conditions.length === 0 ? '' : ` WHERE ${this.#conditions.join(' AND ')}`;
  }
}

export function sqliteApiKeys(ops: SqliteOps): ApiKeyRepo {
  return {
    async insert(key: ApiKey) {
      const createdMs = timeOf(key.createdAt, 'apiKey.createdAt');
      // Tokens are purged once expired; keys stay, so the audit trail can still name them.
      const purgeMs = key.kind === 'token' && key.expiresAt !== undefined ? timeOf(key.expiresAt, 'apiKey.expiresAt') : null;
      const inserted = ops.run(
        'INSERT INTO api_keys (id, kind, role, created_ms, revoked, purge_ms, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
        key.id,
        key.kind,
        key.role,
        createdMs,
        key.revokedAt === undefined ? 0 : 1,
        purgeMs,
        JSON.stringify(key),
      );
      if (inserted === 0) throw new ConflictError(`API key '${key.id}' already exists`, 'APIKEY_EXISTS');
    },
    async get(id) {
      return docOf<ApiKey>(ops.get('SELECT doc FROM api_keys WHERE id = ?', id));
    },
    async list(filter: ApiKeyFilter = {}) {
      const where = new Conditions();
      if (filter.kind !== undefined) where.add('kind = ?', filter.kind);
      if (filter.role !== undefined) where.add('role = ?', filter.role);
      if (filter.includeRevoked !== true) where.add('revoked = 0');
      return docsOf<ApiKey>(ops.all(`SELECT doc FROM api_keys${where} ORDER BY created_ms, id`, ...where.params));
    },
    async revoke(id, at) {
      timeOf(at, 'revokedAt');
      ops.run(`UPDATE api_keys SET revoked = 1, doc = json_set(doc, '$.revokedAt', ?) WHERE id = ? AND revoked = 0`, at, id);
      return docOf<ApiKey>(ops.get('SELECT doc FROM api_keys WHERE id = ?', id));
    },
  };
}

export function sqliteRoles(ops: SqliteOps): RoleRepo {
  return sqliteKeyedDocs<Role>(ops, 'roles', 'name', (role) => role.name);
}

export function sqliteAudit(ops: SqliteOps): AuditRepo {
  return {
    async append(entry: AuditEntry) {
      ops.run(
        `INSERT INTO audit (id, created_ms, actor_id, actor_name, action, target_type, target_id, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`,
        entry.id,
        timeOf(entry.at, 'audit.at'),
        entry.actor.id ?? null,
        entry.actor.name,
        entry.action,
        entry.target?.type ?? null,
        entry.target?.id ?? null,
        JSON.stringify(entry),
      );
    },
    async list(filter: AuditFilter, options) {
      const query = pageQuery(options);
      const where = new Conditions();
      if (filter.actor !== undefined) where.add('(actor_id = ? OR actor_name = ?)', filter.actor, filter.actor);
      if (filter.action !== undefined) where.add('action = ?', filter.action);
      if (filter.targetType !== undefined) where.add('target_type = ?', filter.targetType);
      if (filter.targetId !== undefined) where.add('target_id = ?', filter.targetId);
      if (filter.since !== undefined) where.add('created_ms >= ?', timeOf(filter.since, 'since'));
      if (filter.until !== undefined) where.add('created_ms < ?', timeOf(filter.until, 'until'));
      if (query.after !== undefined) where.add('(created_ms, id) < (?, ?)', query.after.ms, query.after.id);
      const rows = ops.all(
        `SELECT id, created_ms, doc FROM audit${where} ORDER BY created_ms DESC, id DESC LIMIT ?`,
        ...where.params,
        query.limit + 1,
      );
      const paged = toPage(rows, query.limit, (row) => ({ ms: Number(row['created_ms']), id: String(row['id']) }));
      const items = docsOf<AuditEntry>(paged.items);
      return paged.nextCursor === undefined ? { items } : { items, nextCursor: paged.nextCursor };
    },
  };
}

export function sqliteWebhookAuth(ops: SqliteOps): WebhookAuthRepo {
  return sqliteKeyedDocs<WebhookAuth>(ops, 'webhook_auth', 'url', (auth) => auth.url);
}
