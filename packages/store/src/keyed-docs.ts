/**
 * Small repositories of whole documents under one natural key (packs by name, roles by name,
 * webhook authentication by url), for both adapters: create-or-replace, get, list by key, delete.
 */
import type { Collection, Document } from 'mongodb';
import type { SqliteOps } from './sqlite-ops.ts';

export interface KeyedDocs<T> {
  put(doc: T): Promise<void>;
  get(key: string): Promise<T | null>;
  /** Ordered by key. */
  list(): Promise<T[]>;
  delete(key: string): Promise<boolean>;
}

function parse<T>(doc: unknown): T {
  if (typeof doc !== 'string') throw new TypeError('store row has no JSON document');
  return JSON.parse(doc) as T;
}

/** `table` has columns (`keyColumn` TEXT PRIMARY KEY, doc TEXT). Names come from code, never input. */
export function sqliteKeyedDocs<T>(ops: SqliteOps, table: string, keyColumn: string, keyOf: (doc: T) => string): KeyedDocs<T> {
  return {
    async put(doc) {
      ops.run(
        `INSERT INTO ${table} (${keyColumn}, doc) VALUES (?, ?) ON CONFLICT (${keyColumn}) DO UPDATE SET doc = excluded.doc`,
        keyOf(doc),
        JSON.stringify(doc),
      );
    },
    async get(key) {
      const row = ops.get(`SELECT doc FROM ${table} WHERE ${keyColumn} = ?`, key);
      return row === undefined ? null : parse<T>(row['doc']);
    },
    async list() {
      return ops.all(`SELECT doc FROM ${table} ORDER BY ${keyColumn}`).map((row) => parse<T>(row['doc']));
    },
    async delete(key) {
      return ops.run(`DELETE FROM ${table} WHERE ${keyColumn} = ?`, key) > 0;
    },
  };
}

/** The record as it went in: the storage fields (`_id`, `_createdAt`, `expireAt`) removed. */
export function stripStored<T>(doc: Document | null): T | null {
  if (doc === null) return null;
  delete doc['_id'];
  delete doc['_createdAt'];
  delete doc['expireAt'];
  return doc as T;
}

export function stripAllStored<T>(docs: Document[]): T[] {
  return docs.map((doc) => stripStored<T>(doc) as T);
}

/** Documents stored with `_id` = their key. */
export function mongoKeyedDocs<T extends Document>(collection: Collection<Document>, keyOf: (doc: T) => string): KeyedDocs<T> {
  return {
    async put(doc) {
      const key = keyOf(doc);
      await collection.replaceOne({ _id: key as unknown as Document['_id'] }, { ...doc, _id: key }, { upsert: true });
    },
    async get(key) {
      return stripStored<T>(await collection.findOne({ _id: key as unknown as Document['_id'] }));
    },
    async list() {
      return stripAllStored<T>(await collection.find({}).sort({ _id: 1 }).toArray());
    },
    async delete(key) {
      return (await collection.deleteOne({ _id: key as unknown as Document['_id'] })).deletedCount > 0;
    },
  };
}
