/**
 * Noise control on MongoDB. A state is one document `{ _id: key, v, state, dueAt?, expireAt? }`;
 * an update reads it, lets the caller decide, and writes back only if `v` is unchanged
 * (`replaceOne({ _id, v })`, `deleteOne({ _id, v })`, or an insert that a concurrent insert turns
 * into a duplicate key), retrying on a lost race: atomic across processes without transactions.
 * `expireAt` has a TTL index; reads also skip expired states (the TTL monitor runs once a minute).
 */
import type { Collection, Document, IndexDescription } from 'mongodb';
import { ConflictError, type Decision, type Inhibition, type Silence } from '@reflex/model';
import { isDuplicateKey } from './mongo-errors.ts';
import { checkNoiseKey, noiseLimit, stampNoiseState } from './noise.ts';
import type { DecisionRepo, InhibitionRepo, NoiseState, NoiseStateRepo, SilenceRepo } from './store.ts';
import { timeOf } from './time.ts';

export interface StoredNoiseState extends Document {
  _id: string;
  v: number;
  owner: string;
  state: NoiseState;
  dueAt?: Date;
  expireAt?: Date;
}

export interface StoredDoc extends Document {
  _id: string;
}

export const NOISE_STATE_INDEXES: IndexDescription[] = [
  { key: { dueAt: 1 }, name: 'dueAt', partialFilterExpression: { dueAt: { $exists: true } } },
  { key: { owner: 1, _id: 1 }, name: 'owner_key' },
  { key: { expireAt: 1 }, name: 'ttl_expireAt', expireAfterSeconds: 0 },
];

export const DECISION_INDEXES: IndexDescription[] = [
  { key: { eventId: 1, _createdAt: 1, _id: 1 }, name: 'eventId_createdAt_id' },
  { key: { 'window.id': 1, _createdAt: 1, _id: 1 }, name: 'windowId_createdAt_id', partialFilterExpression: { 'window.id': { $exists: true } } },
  { key: { expireAt: 1 }, name: 'ttl_expireAt', expireAfterSeconds: 0 },
];

export const SILENCE_INDEXES: IndexDescription[] = [{ key: { _createdAt: 1, _id: 1 }, name: 'createdAt_id' }, { key: { _endsAt: 1 }, name: 'endsAt' }];
export const INHIBITION_INDEXES: IndexDescription[] = [{ key: { _createdAt: 1, _id: 1 }, name: 'createdAt_id' }];

/** Lost compare-and-sets before an update gives up (each loss means another update succeeded). */
const MAX_ATTEMPTS = 100;
const MAX_BACKOFF_MS = 50;
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const isLive = (doc: StoredNoiseState, nowMs: number): boolean => doc.expireAt === undefined || doc.expireAt.getTime() > nowMs;

export function mongoNoiseState(states: Collection<StoredNoiseState>): NoiseStateRepo {
  return {
    async get(key, now = new Date()) {
      const doc = await states.findOne({ _id: key });
      return doc !== null && isLive(doc, now.getTime()) ? doc.state : null;
    },

    async update(key, now, apply) {
      checkNoiseKey(key);
      const nowMs = now.getTime();
      for (let attempt = 1; ; attempt++) {
        const doc = await states.findOne({ _id: key });
        const change = apply(doc !== null && isLive(doc, nowMs) ? doc.state : null);
        if (change.write === undefined) return change.result;
        if (change.write === null) {
          if (doc === null || (await states.deleteOne({ _id: key, v: doc.v })).deletedCount === 1) return change.result;
        } else {
          const version = doc === null ? 1 : doc.v + 1;
          const { state, dueMs, expiresMs } = stampNoiseState(key, change.write, version);
          const next: StoredNoiseState = { _id: key, v: version, owner: state.owner, state };
          if (dueMs !== null) next.dueAt = new Date(dueMs);
          if (expiresMs !== null) next.expireAt = new Date(expiresMs);
          if (doc === null) {
            try {
              await states.insertOne(next);
              return change.result;
            } catch (err) {
              if (!isDuplicateKey(err)) throw err; // else another process created it first: read again
            }
          } else if ((await states.replaceOne({ _id: key, v: doc.v }, next)).matchedCount === 1) {
            return change.result;
          }
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new ConflictError(`noise state '${key}' is too contended: gave up after ${attempt} attempts`, 'NOISE_STATE_CONTENTION');
        }
        await pause(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
      }
    },

    async listDue(now, limit) {
      const docs = await states
        .find({ dueAt: { $lte: now }, $or: [{ expireAt: { $exists: false } }, { expireAt: { $gt: now } }] })
        .sort({ dueAt: 1, _id: 1 })
        .limit(noiseLimit(limit, 100))
        .toArray();
      return docs.map((doc) => doc.state);
    },

    async list(filter = {}, limit) {
      const query: Document = { $or: [{ expireAt: { $exists: false } }, { expireAt: { $gt: new Date() } }] };
      if (filter.owner !== undefined) query['owner'] = filter.owner;
      const docs = await states.find(query).sort({ _id: 1 }).limit(noiseLimit(limit, 1000)).toArray();
      return docs.map((doc) => doc.state);
    },
  };
}

function strip<T>(doc: Document | null): T | null {
  if (doc === null) return null;
  delete doc['_id'];
  delete doc['_createdAt'];
  delete doc['_endsAt'];
  delete doc['expireAt'];
  return doc as T;
}

/** The stored form of a decision (built before any write, so a bad time fails the whole batch). */
export type DecisionDoc = [string, Document];

export function mongoDecisions(
  decisions: Collection<StoredDoc>,
  docOf: (decision: Decision) => Document,
  insertAllOnce: (collection: Collection<StoredDoc>, docs: Array<[string, Document]>) => Promise<void>,
): DecisionRepo {
  return {
    async insert(list) {
      await insertAllOnce(
        decisions,
        list.map((d): [string, Document] => [d.id, docOf(d)]),
      );
    },
    async listByEvent(eventId) {
      const docs = await decisions.find({ eventId }).sort({ _createdAt: 1, _id: 1 }).toArray();
      return docs.map((doc) => strip<Decision>(doc) as Decision);
    },
    async listByWindow(windowId, filter = {}) {
      const query: Document = { 'window.id': windowId };
      if (filter.outcome !== undefined) query['outcome'] = filter.outcome;
      const docs = await decisions.find(query).sort({ _createdAt: 1, _id: 1 }).limit(noiseLimit(filter.limit, 100)).toArray();
      return docs.map((doc) => strip<Decision>(doc) as Decision);
    },
  };
}

export function mongoSilences(silences: Collection<StoredDoc>): SilenceRepo {
  return {
    async insert(silence: Silence) {
      const doc = {
        ...silence,
        _id: silence.id,
        _createdAt: new Date(timeOf(silence.createdAt, 'createdAt')),
        _endsAt: new Date(timeOf(silence.endsAt, 'endsAt')),
      };
      timeOf(silence.startsAt, 'startsAt');
      try {
        await silences.insertOne(doc);
      } catch (err) {
        if (isDuplicateKey(err)) throw new ConflictError(`silence '${silence.id}' already exists`, 'SILENCE_EXISTS');
        throw err;
      }
    },
    async get(id) {
      return strip<Silence>(await silences.findOne({ _id: id }));
    },
    async list() {
      return (await silences.find({}).sort({ _createdAt: 1, _id: 1 }).toArray()).map((doc) => strip<Silence>(doc) as Silence);
    },
    async expire(id, at) {
      const atDate = new Date(timeOf(at, 'at'));
      // One atomic update: only a silence still running at `at` is ended (a pending one never starts).
      await silences.updateOne({ _id: id, _endsAt: { $gt: atDate } }, [
        {
          $set: {
            endsAt: at,
            _endsAt: atDate,
            updatedAt: at,
            startsAt: { $cond: [{ $gt: [{ $toDate: '$startsAt' }, atDate] }, at, '$startsAt'] },
          },
        },
      ]);
      return strip<Silence>(await silences.findOne({ _id: id }));
    },
  };
}

export function mongoInhibitions(inhibitions: Collection<StoredDoc>): InhibitionRepo {
  return {
    async insert(inhibition: Inhibition) {
      try {
        await inhibitions.insertOne({ ...inhibition, _id: inhibition.id, _createdAt: new Date(timeOf(inhibition.createdAt, 'createdAt')) });
      } catch (err) {
        if (isDuplicateKey(err)) throw new ConflictError(`inhibition '${inhibition.id}' already exists`, 'INHIBITION_EXISTS');
        throw err;
      }
    },
    async get(id) {
      return strip<Inhibition>(await inhibitions.findOne({ _id: id }));
    },
    async list() {
      return (await inhibitions.find({}).sort({ _createdAt: 1, _id: 1 }).toArray()).map((doc) => strip<Inhibition>(doc) as Inhibition);
    },
    async delete(id) {
      return (await inhibitions.deleteOne({ _id: id })).deletedCount > 0;
    },
  };
}
