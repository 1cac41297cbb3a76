/**
 * The distributed Store on MongoDB (driver 7). One collection per repository; a document is the
 * record itself plus `_id` (its id, ref or name) and, for events, enforcements and executions,
 * `_createdAt` (a Date: the sort and range key) and `expireAt` (a Date, absent when retention is
 * off) under a TTL index. Those three fields are stripped on the way out.
 *
 * Derived-id records are written with `updateOne` + `$setOnInsert` + upsert: a record whose id
 * exists is left as it is, so a redelivered firing changes nothing. A transition is one
 * `findOneAndUpdate` filtered on the expected statuses (its history entry `$push`ed by the same
 * update): MongoDB applies it atomically per document. Output chunks and concurrency slots live in
 * mongo-outputs.ts and mongo-slots.ts.
 */
import {
  MongoClient,
  type AnyBulkWriteOperation,
  type Collection,
  type Db,
  type Document,
  type Filter,
  type IndexDescription,
} from 'mongodb';
import {
  ConflictError,
  ReflexError,
  UnavailableError,
  ValidationError,
  type Action,
  type Decision,
  type Enforcement,
  type Execution,
  type ExecutionStatus,
  type Pack,
  type ReflexEvent,
  type Rule,
  type RuleSource,
  type TriggerType,
} from '@reflex/model';
import { pageQuery, toPage, type PageQuery, type Position } from './cursor.ts';
import { AUTH_INDEXES, mongoApiKeys, mongoAudit, mongoRoles, mongoWebhookAuth, type StoredAuth } from './mongo-auth.ts';
import { isDuplicateKey, onlyDuplicateKeys } from './mongo-errors.ts';
import { mongoKeyedDocs, stripAllStored, stripStored } from './keyed-docs.ts';
import { KEY_INDEXES, mongoKeys, type StoredKey } from './mongo-keys.ts';
import {
  DECISION_INDEXES,
  INHIBITION_INDEXES,
  mongoDecisions,
  mongoInhibitions,
  mongoNoiseState,
  mongoSilences,
  NOISE_STATE_INDEXES,
  SILENCE_INDEXES,
  type StoredNoiseState,
} from './mongo-noise.ts';
import { mongoOutputs, type StoredChunk } from './mongo-outputs.ts';
import { decisionTime } from './noise.ts';
import { mongoSlots, type StoredSlots } from './mongo-slots.ts';
import { expiryOf, resolveRetention } from './retention.ts';
import type {
  EventFilter,
  ExecutionFilter,
  ExecutionPatch,
  FiringRecord,
  Page,
  PackContentRepo,
  PageOptions,
  PurgeCounts,
  RetentionConfig,
  RuleFilter,
  Store,
} from './store.ts';
import { timeOf } from './time.ts';
import { historyEntry, patchEntries, refusedTransition, transitionSources } from './transition.ts';

export interface MongoStoreOptions {
  /** A MongoDB connection string (`mongodb://` or `mongodb+srv://`). */
  url: string;
  /** Database name. Default: the one in the URL's path, else `reflex`. */
  dbName?: string;
  /** Overrides of DEFAULT_RETENTION; 0 keeps records of that kind forever. */
  retention?: Partial<RetentionConfig>;
}

export const COLLECTIONS = {
  packs: 'packs',
  triggerTypes: 'triggerTypes',
  actions: 'actions',
  rules: 'rules',
  events: 'events',
  enforcements: 'enforcements',
  executions: 'executions',
  outputs: 'outputs',
  slots: 'slots',
  apiKeys: 'apiKeys',
  roles: 'roles',
  audit: 'audit',
  webhookAuth: 'webhookAuth',
  keys: 'keys',
  noiseState: 'noiseState',
  decisions: 'decisions',
  silences: 'silences',
  inhibitions: 'inhibitions',
} as const;

/** Newest first, the order every paged list uses; `_id` is the record's id. */
const NEWEST_FIRST = { _createdAt: -1, _id: -1 } as const;
const TTL: IndexDescription = { key: { expireAt: 1 }, name: 'ttl_expireAt', expireAfterSeconds: 0 };

/** Indexes per collection: one for each list filter (then the page order), and the TTL. */
export const INDEXES: Record<Exclude<keyof typeof COLLECTIONS, 'packs' | 'roles' | 'webhookAuth'>, IndexDescription[]> = {
  triggerTypes: [{ key: { pack: 1, _id: 1 }, name: 'pack_ref' }],
  actions: [{ key: { pack: 1, _id: 1 }, name: 'pack_ref' }],
  rules: [
    { key: { pack: 1, source: 1, _id: 1 }, name: 'pack_source_ref' },
    { key: { 'trigger.type': 1, enabled: 1, _id: 1 }, name: 'triggerType_enabled_ref' },
  ],
  events: [
    { key: NEWEST_FIRST, name: 'createdAt_id' },
    { key: { type: 1, ...NEWEST_FIRST }, name: 'type_createdAt_id' },
    TTL,
  ],
  enforcements: [
    { key: NEWEST_FIRST, name: 'createdAt_id' },
    { key: { eventId: 1, _createdAt: 1, _id: 1 }, name: 'eventId_createdAt_id' },
    { key: { rule: 1, ...NEWEST_FIRST }, name: 'rule_createdAt_id' },
    TTL,
  ],
  executions: [
    { key: NEWEST_FIRST, name: 'createdAt_id' },
    { key: { action: 1, ...NEWEST_FIRST }, name: 'action_createdAt_id' },
    { key: { status: 1, ...NEWEST_FIRST }, name: 'status_createdAt_id' },
    { key: { rule: 1, ...NEWEST_FIRST }, name: 'rule_createdAt_id' },
    { key: { eventId: 1, ...NEWEST_FIRST }, name: 'eventId_createdAt_id' },
    TTL,
  ],
  outputs: [{ key: { executionId: 1, seq: 1 }, name: 'executionId_seq' }, TTL],
  slots: [TTL],
  keys: KEY_INDEXES,
  noiseState: NOISE_STATE_INDEXES,
  decisions: DECISION_INDEXES,
  silences: SILENCE_INDEXES,
  inhibitions: INHIBITION_INDEXES,
  ...AUTH_INDEXES,
};

/** Every document is keyed by the record's id, ref or name (never an ObjectId). */
interface Stored extends Document {
  _id: string;
}

const strip = stripStored;
const stripAll = stripAllStored;

/** The database name in a connection string's path, if any. */
function dbNameInUrl(url: string): string | undefined {
  const match = /^mongodb(?:\+srv)?:\/\/[^/?#]*\/([^?#]+)/.exec(url);
  return match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
}

export async function createMongoStore(options: MongoStoreOptions): Promise<Store> {
  const retention = resolveRetention(options.retention);
  const dbName = options.dbName !== undefined && options.dbName !== '' ? options.dbName : (dbNameInUrl(options.url) ?? 'reflex');
  let client: MongoClient;
  try {
    // ignoreUndefined: an `undefined` field is left out, as JSON does, instead of stored as null.
    client = new MongoClient(options.url, { ignoreUndefined: true });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new ValidationError('the MongoDB URL is invalid', [{ field: 'url', message: reason }], { cause: err });
  }
  try {
    await client.connect();
  } catch (err) {
    // Never put the URL in the message: it may hold credentials.
    await client.close().catch(() => undefined); // already failing; the connect error is the one to report
    throw new UnavailableError(`cannot connect to MongoDB (database '${dbName}')`, { cause: err });
  }
  const db: Db = client.db(dbName);
  const collectionOf = (name: string): Collection<Stored> => db.collection<Stored>(name);
  try {
    for (const [name, indexes] of Object.entries(INDEXES)) {
      await collectionOf(COLLECTIONS[name as keyof typeof INDEXES]).createIndexes(indexes);
    }
  } catch (err) {
    await client.close().catch(() => undefined); // already failing; the index error is the one to report
    throw new ReflexError('STORE_INDEXES', `cannot create the store's indexes in '${dbName}'`, { cause: err });
  }

  const packs: Collection<Stored> = collectionOf(COLLECTIONS.packs);
  const rules: Collection<Stored> = collectionOf(COLLECTIONS.rules);
  const events: Collection<Stored> = collectionOf(COLLECTIONS.events);
  const enforcements: Collection<Stored> = collectionOf(COLLECTIONS.enforcements);
  const executions: Collection<Stored> = collectionOf(COLLECTIONS.executions);
  const outputs: Collection<StoredChunk> = db.collection<StoredChunk>(COLLECTIONS.outputs);
  const slots: Collection<StoredSlots> = db.collection<StoredSlots>(COLLECTIONS.slots);
  const apiKeys: Collection<StoredAuth> = db.collection<StoredAuth>(COLLECTIONS.apiKeys);
  const decisions: Collection<Stored> = collectionOf(COLLECTIONS.decisions);
  const silences: Collection<Stored> = collectionOf(COLLECTIONS.silences);

  /** The storage fields of a derived-id record (everything but `_id`, which the upsert filter sets). */
  const timed = (record: object, createdMs: number, retentionMs: number): Document => {
    const expiresMs = expiryOf(createdMs, retentionMs);
    const doc: Document = { ...record, _createdAt: new Date(createdMs) };
    if (expiresMs !== null) doc['expireAt'] = new Date(expiresMs);
    return doc;
  };
  const eventDoc = (event: ReflexEvent): Document =>
    timed(event, timeOf(event.occurredAt, 'event.occurredAt'), retention.eventsMs);
  const enforcementDoc = (enforcement: Enforcement): Document =>
    timed(enforcement, timeOf(enforcement.createdAt, 'enforcement.createdAt'), retention.executionsMs);
  const executionDoc = (execution: Execution): Document =>
    timed(execution, timeOf(execution.createdAt, 'execution.createdAt'), retention.executionsMs);
  const decisionDoc = (decision: Decision): Document => timed(decision, decisionTime(decision), retention.executionsMs);

  const insertOnce = (id: string, doc: Document): AnyBulkWriteOperation<Stored> => ({
    updateOne: { filter: { _id: id }, update: { $setOnInsert: doc }, upsert: true },
  });

  /** One unordered bulk write of insert-if-absent upserts; the first of a repeated id wins. */
  const insertAllOnce = async (collection: Collection<Stored>, docs: [string, Document][]): Promise<void> => {
    const seen = new Set<string>();
    const operations: AnyBulkWriteOperation<Stored>[] = [];
    for (const [id, doc] of docs) {
      if (seen.has(id)) continue;
      seen.add(id);
      operations.push(insertOnce(id, doc));
    }
    if (operations.length === 0) return;
    try {
      await collection.bulkWrite(operations, { ordered: false });
    } catch (err) {
      // Two writers upserting one id at once: the loser's duplicate key means the record is there.
      if (!onlyDuplicateKeys(err)) throw err;
    }
  };

  /** Inserts unless the id exists; true when this call inserted it. */
  const insertOne = async (collection: Collection<Stored>, id: string, doc: Document): Promise<boolean> => {
    try {
      const result = await collection.updateOne({ _id: id }, { $setOnInsert: doc }, { upsert: true });
      return result.upsertedCount === 1;
    } catch (err) {
      if (isDuplicateKey(err)) return false; // a concurrent insert of the same id won
      throw err;
    }
  };

  const page = async <T>(collection: Collection<Stored>, filter: Filter<Stored>, query: PageQuery): Promise<Page<T>> => {
    if (query.after !== undefined) {
      const at = new Date(query.after.ms);
      filter['$or'] = [{ _createdAt: { $lt: at } }, { _createdAt: at, _id: { $lt: query.after.id } }];
    }
    const docs = await collection.find(filter).sort(NEWEST_FIRST).limit(query.limit + 1).toArray();
    const paged = toPage(docs, query.limit, (doc): Position => ({
      ms: (doc['_createdAt'] as Date).getTime(),
      id: String(doc['_id']),
    }));
    const items = stripAll<T>(paged.items);
    return paged.nextCursor === undefined ? { items } : { items, nextCursor: paged.nextCursor };
  };

  const packContent = <T extends { ref: string; pack: string }>(collection: Collection<Stored>): PackContentRepo<T> => ({
    async upsert(item) {
      await collection.replaceOne({ _id: item.ref }, item, { upsert: true });
    },
    async get(ref) {
      return strip<T>(await collection.findOne({ _id: ref }));
    },
    async list(filter = {}) {
      const query: Filter<Stored> = filter.pack === undefined ? {} : { pack: filter.pack };
      return stripAll<T>(await collection.find(query).sort({ _id: 1 }).toArray());
    },
    async deleteByPack(pack, keepRefs = []) {
      return (await collection.deleteMany({ pack, _id: { $nin: keepRefs } })).deletedCount;
    },
  });

  let closed = false;

  return {
    packs: (() => {
      const docs = mongoKeyedDocs<Pack>(packs as unknown as Collection<Document>, (pack) => pack.name);
      return { upsert: docs.put, get: docs.get, list: docs.list, delete: docs.delete };
    })(),


    triggerTypes: packContent<TriggerType>(collectionOf(COLLECTIONS.triggerTypes)),
    actions: packContent<Action>(collectionOf(COLLECTIONS.actions)),

    rules: {
      async insert(rule: Rule) {
        try {
          await rules.insertOne({ ...rule, _id: rule.ref });
        } catch (err) {
          if (isDuplicateKey(err)) throw new ConflictError(`rule '${rule.ref}' already exists`, 'RULE_EXISTS');
          throw err;
        }
      },
      async put(rule: Rule) {
        await rules.replaceOne({ _id: rule.ref }, rule, { upsert: true });
      },
      async get(ref) {
        return strip<Rule>(await rules.findOne({ _id: ref }));
      },
      async list(filter: RuleFilter = {}) {
        const query: Filter<Stored> = {};
        if (filter.pack !== undefined) query['pack'] = filter.pack;
        if (filter.source !== undefined) query['source'] = filter.source;
        if (filter.triggerType !== undefined) query['trigger.type'] = filter.triggerType;
        if (filter.enabled !== undefined) query['enabled'] = filter.enabled;
        return stripAll<Rule>(await rules.find(query).sort({ _id: 1 }).toArray());
      },
      async delete(ref) {
        return (await rules.deleteOne({ _id: ref })).deletedCount > 0;
      },
      async deleteByPack(pack: string, source: RuleSource, keepRefs: string[] = []) {
        return (await rules.deleteMany({ pack, source, _id: { $nin: keepRefs } })).deletedCount;
      },
    },

    events: {
      async insert(event) {
        await insertOne(events, event.id, eventDoc(event));
      },
      async get(id) {
        return strip<ReflexEvent>(await events.findOne({ _id: id }));
      },
      async list(filter: EventFilter, options?: PageOptions) {
        const query = pageQuery(options);
        const where: Filter<Stored> = {};
        if (filter.type !== undefined) where['type'] = filter.type;
        const range: Document = {};
        if (filter.since !== undefined) range['$gte'] = new Date(timeOf(filter.since, 'since'));
        if (filter.until !== undefined) range['$lt'] = new Date(timeOf(filter.until, 'until'));
        if (Object.keys(range).length > 0) where['_createdAt'] = range;
        return await page<ReflexEvent>(events, where, query);
      },
    },

    enforcements: {
      async get(id) {
        return strip<Enforcement>(await enforcements.findOne({ _id: id }));
      },
      async listByEvent(eventId) {
        return stripAll<Enforcement>(await enforcements.find({ eventId }).sort({ _createdAt: 1, _id: 1 }).toArray());
      },
      async list(filter: { rule?: string }, options?: PageOptions) {
        const query = pageQuery(options);
        return await page<Enforcement>(enforcements, filter.rule === undefined ? {} : { rule: filter.rule }, query);
      },
    },

    executions: {
      async insert(execution) {
        return await insertOne(executions, execution.id, executionDoc(execution));
      },
      async get(id) {
        return strip<Execution>(await executions.findOne({ _id: id }));
      },
      async list(filter: ExecutionFilter, options?: PageOptions) {
        const query = pageQuery(options);
        const where: Filter<Stored> = {};
        if (filter.action !== undefined) where['action'] = filter.action;
        if (filter.status !== undefined) where['status'] = filter.status;
        if (filter.rule !== undefined) where['rule'] = filter.rule;
        if (filter.eventId !== undefined) where['eventId'] = filter.eventId;
        return await page<Execution>(executions, where, query);
      },
      async transition(id: string, to: ExecutionStatus, patch?: ExecutionPatch, from?: ExecutionStatus[]) {
        const sources = transitionSources(to, from);
        const updatedAt = new Date().toISOString();
        const set: Document = { status: to, updatedAt };
        for (const [field, value] of patchEntries(patch)) set[field] = value;
        const push: Document = { history: historyEntry(to, updatedAt, patch) };
        const updated = await executions.findOneAndUpdate(
          { _id: id, status: { $in: sources } },
          { $set: set, $push: push },
          { returnDocument: 'after' },
        );
        if (updated !== null) return strip<Execution>(updated) as Execution;
        const current = await executions.findOne({ _id: id }, { projection: { status: 1 } });
        throw refusedTransition(id, current?.['status'] as ExecutionStatus | undefined, to, sources);
      },
      async delete(id) {
        const deleted = (await executions.deleteOne({ _id: id })).deletedCount > 0;
        await outputs.deleteMany({ executionId: id });
        return deleted;
      },
    },

    outputs: mongoOutputs(outputs, executions, retention),
    slots: mongoSlots(slots),
    apiKeys: mongoApiKeys(apiKeys),
    roles: mongoRoles(db.collection<StoredAuth>(COLLECTIONS.roles)),
    audit: mongoAudit(db.collection<StoredAuth>(COLLECTIONS.audit)),
    webhookAuth: mongoWebhookAuth(db.collection<StoredAuth>(COLLECTIONS.webhookAuth)),
    keys: mongoKeys(db.collection<StoredKey>(COLLECTIONS.keys)),
    noiseState: mongoNoiseState(db.collection<StoredNoiseState>(COLLECTIONS.noiseState)),
    decisions: mongoDecisions(decisions, decisionDoc, insertAllOnce),
    silences: mongoSilences(silences),
    inhibitions: mongoInhibitions(collectionOf(COLLECTIONS.inhibitions)),

    async record(batch: FiringRecord[]) {
      // Build every document first: a bad time fails the batch before anything is written.
      const eventDocs = batch.map((f): [string, Document] => [f.event.id, eventDoc(f.event)]);
      const enforcementDocs = batch.flatMap((f) => f.enforcements.map((e): [string, Document] => [e.id, enforcementDoc(e)]));
      const executionDocs = batch.flatMap((f) => f.executions.map((e): [string, Document] => [e.id, executionDoc(e)]));
      const decisionDocs = batch.flatMap((f) => (f.decisions ?? []).map((d): [string, Document] => [d.id, decisionDoc(d)]));
      // Parents before children, so a reader never sees an execution whose event is not stored yet.
      await insertAllOnce(events, eventDocs);
      await insertAllOnce(enforcements, enforcementDocs);
      await insertAllOnce(executions, executionDocs);
      await insertAllOnce(decisions, decisionDocs);
    },

    async purgeExpired(now: Date = new Date()): Promise<PurgeCounts> {
      const expired = { expireAt: { $lte: now } };
      const [e, x, f, o] = await Promise.all([
        events.deleteMany(expired),
        executions.deleteMany(expired),
        enforcements.deleteMany(expired),
        outputs.deleteMany(expired),
        // Slot keys whose holders and waiters all timed out, judged by the clock the slots run on.
        slots.deleteMany({ expireAt: { $lte: new Date() } }),
        // Expired tokens (also removed by the TTL monitor); not counted.
        apiKeys.deleteMany({ kind: 'token', expireAt: { $lte: now } }),
        // Noise control: state past its expiry, decisions past retention, silences long over.
        db.collection<StoredNoiseState>(COLLECTIONS.noiseState).deleteMany({ expireAt: { $lte: now } }),
        decisions.deleteMany(expired),
        ...(retention.eventsMs > 0 ? [silences.deleteMany({ _endsAt: { $lte: new Date(now.getTime() - retention.eventsMs) } })] : []),
      ]);
      return { events: e.deletedCount, executions: x.deletedCount, enforcements: f.deletedCount, outputs: o.deletedCount };
    },

    async ping() {
      await db.command({ ping: 1 });
    },

    async close() {
      if (closed) return;
      closed = true;
      await client.close();
    },
  };
}
