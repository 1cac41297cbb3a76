/**
 * The datastore on MongoDB: one document per (scope, name) with `_id` = scope + NUL + name, and a
 * TTL index on `expireAt` (reads also skip expired entries, since the TTL monitor runs once a minute).
 */
import type { Collection, Document, IndexDescription } from 'mongodb';
import { checkKeyEntry, keyLimit } from './keys.ts';
import type { KeyEntry, KeyRepo } from './store.ts';

export interface StoredKey extends Document {
  _id: string;
  scope: string;
  name: string;
  entry: KeyEntry;
  expireAt?: Date;
}

export const KEY_INDEXES: IndexDescription[] = [
  { key: { scope: 1, name: 1 }, name: 'scope_name' },
  { key: { expireAt: 1 }, name: 'ttl_expireAt', expireAfterSeconds: 0 },
];

const idOf = (scope: string, name: string): string => `${scope}\u0000${name}`;
const live = (): Document => ({ $or: [{ expireAt: { $exists: false } }, { expireAt: { $gt: new Date() } }] });

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function mongoKeys(keys: Collection<StoredKey>): KeyRepo {
  return {
    async get(scope, name) {
      const doc = await keys.findOne({ _id: idOf(scope, name), ...live() });
      return doc === null ? null : doc.entry;
    },
    async put(input) {
      const { entry, expiresMs } = checkKeyEntry(input);
      const doc: StoredKey = { _id: idOf(entry.scope, entry.name), scope: entry.scope, name: entry.name, entry };
      if (expiresMs !== null) doc.expireAt = new Date(expiresMs);
      await keys.replaceOne({ _id: doc._id }, doc, { upsert: true });
      return entry;
    },
    async delete(scope, name) {
      return (await keys.deleteOne({ _id: idOf(scope, name) })).deletedCount > 0;
    },
    async list(scope, options) {
      const filter: Document = { scope, ...live() };
      if (options?.prefix !== undefined && options.prefix !== '') filter['name'] = { $regex: `^${escapeRegex(options.prefix)}` };
      const docs = await keys.find(filter).sort({ name: 1 }).limit(keyLimit(options?.limit)).toArray();
      return docs.map((doc) => doc.entry);
    },
  };
}
