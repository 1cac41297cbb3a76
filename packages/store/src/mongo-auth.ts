/**
 * API keys, custom roles, the audit trail and webhook authentication on MongoDB. Keys are
 * `_id` = key id with `_createdAt` (a Date, the sort key) and, for tokens only, `expireAt` under
 * the TTL index; audit entries are `_id` = entry id with `_createdAt` = `at`. Storage fields are
 * stripped on the way out.
 */
import type { Collection, Document, Filter, IndexDescription } from 'mongodb';
import { ConflictError, type ApiKey, type AuditEntry, type Role, type WebhookAuth } from '@reflex/model';
import { pageQuery, toPage, type Position } from './cursor.ts';
import { isDuplicateKey } from './mongo-errors.ts';
import type { ApiKeyFilter, ApiKeyRepo, AuditFilter, AuditRepo, RoleRepo, WebhookAuthRepo } from './store.ts';
import { mongoKeyedDocs, stripAllStored, stripStored } from './keyed-docs.ts';
import { timeOf } from './time.ts';

export interface StoredAuth extends Document {
  _id: string;
}

const NEWEST_FIRST = { _createdAt: -1, _id: -1 } as const;

export const AUTH_INDEXES: { apiKeys: IndexDescription[]; audit: IndexDescription[] } = {
  apiKeys: [
    { key: { _createdAt: 1, _id: 1 }, name: 'createdAt_id' },
    { key: { expireAt: 1 }, name: 'ttl_expireAt', expireAfterSeconds: 0 },
  ],
  audit: [
    { key: NEWEST_FIRST, name: 'createdAt_id' },
    { key: { action: 1, ...NEWEST_FIRST }, name: 'action_createdAt_id' },
    { key: { 'actor.id': 1, ...NEWEST_FIRST }, name: 'actorId_createdAt_id' },
    { key: { 'actor.name': 1, ...NEWEST_FIRST }, name: 'actorName_createdAt_id' },
    { key: { 'target.type': 1, 'target.id': 1, ...NEWEST_FIRST }, name: 'target_createdAt_id' },
  ],
};

const strip = stripStored;
const stripAll = stripAllStored;

export function mongoApiKeys(keys: Collection<StoredAuth>): ApiKeyRepo {
  return {
    async insert(key: ApiKey) {
      const doc: StoredAuth = { ...key, _id: key.id, _createdAt: new Date(timeOf(key.createdAt, 'apiKey.createdAt')) };
      // Tokens expire (TTL); keys stay, so the audit trail can still name them.
      if (key.kind === 'token' && key.expiresAt !== undefined) doc['expireAt'] = new Date(timeOf(key.expiresAt, 'apiKey.expiresAt'));
      try {
        await keys.insertOne(doc);
      } catch (err) {
        if (isDuplicateKey(err)) throw new ConflictError(`API key '${key.id}' already exists`, 'APIKEY_EXISTS');
        throw err;
      }
    },
    async get(id) {
      return strip<ApiKey>(await keys.findOne({ _id: id }));
    },
    async list(filter: ApiKeyFilter = {}) {
      const query: Filter<StoredAuth> = {};
      if (filter.kind !== undefined) query['kind'] = filter.kind;
      if (filter.role !== undefined) query['role'] = filter.role;
      if (filter.includeRevoked !== true) query['revokedAt'] = { $exists: false };
      return stripAll<ApiKey>(await keys.find(query).sort({ _createdAt: 1, _id: 1 }).toArray());
    },
    async revoke(id, at) {
      timeOf(at, 'revokedAt');
      await keys.updateOne({ _id: id, revokedAt: { $exists: false } }, { $set: { revokedAt: at } });
      return strip<ApiKey>(await keys.findOne({ _id: id }));
    },
  };
}

export function mongoRoles(roles: Collection<StoredAuth>): RoleRepo {
  return mongoKeyedDocs<Role>(roles as unknown as Collection<Document>, (role) => role.name);
}

export function mongoAudit(audit: Collection<StoredAuth>): AuditRepo {
  return {
    async append(entry: AuditEntry) {
      const doc = { ...entry, _createdAt: new Date(timeOf(entry.at, 'audit.at')) };
      try {
        await audit.updateOne({ _id: entry.id }, { $setOnInsert: doc }, { upsert: true });
      } catch (err) {
        if (!isDuplicateKey(err)) throw err; // a concurrent append of the same id won
      }
    },
    async list(filter: AuditFilter, options) {
      const query = pageQuery(options);
      const and: Filter<StoredAuth>[] = [];
      if (filter.actor !== undefined) and.push({ $or: [{ 'actor.id': filter.actor }, { 'actor.name': filter.actor }] });
      if (filter.action !== undefined) and.push({ action: filter.action });
      if (filter.targetType !== undefined) and.push({ 'target.type': filter.targetType });
      if (filter.targetId !== undefined) and.push({ 'target.id': filter.targetId });
      if (filter.since !== undefined) and.push({ _createdAt: { $gte: new Date(timeOf(filter.since, 'since')) } });
      if (filter.until !== undefined) and.push({ _createdAt: { $lt: new Date(timeOf(filter.until, 'until')) } });
      if (query.after !== undefined) {
        const at = new Date(query.after.ms);
        and.push({ $or: [{ _createdAt: { $lt: at } }, { _createdAt: at, _id: { $lt: query.after.id } }] });
      }
      const docs = await audit
        .find(and.length === 0 ? {} : { $and: and })
        .sort(NEWEST_FIRST)
        .limit(query.limit + 1)
        .toArray();
      const paged = toPage(docs, query.limit, (doc): Position => ({ ms: (doc['_createdAt'] as Date).getTime(), id: String(doc['_id']) }));
      const items = stripAll<AuditEntry>(paged.items);
      return paged.nextCursor === undefined ? { items } : { items, nextCursor: paged.nextCursor };
    },
  };
}

export function mongoWebhookAuth(webhookAuth: Collection<StoredAuth>): WebhookAuthRepo {
  return mongoKeyedDocs<WebhookAuth>(webhookAuth as unknown as Collection<Document>, (auth) => auth.url);
}
