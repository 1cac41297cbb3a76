/**
 * Concurrency slots on MongoDB: one document per key holding its `holders` and `queue`, and a
 * version `v`. An acquire reads the document, applies the shared algorithm (slot-queue.ts) and
 * writes it back only if `v` is unchanged (`updateOne({ _id, v })`), retrying on a lost race, so
 * it is atomic across processes. Renew and release are single atomic updates that bump `v`.
 * `expireAt` (TTL) is the last expiry of anything in the document: an abandoned key is removed.
 */
import type { Collection } from 'mongodb';
import { ConflictError } from '@reflex/model';
import { isDuplicateKey } from './mongo-errors.ts';
import {
  acquireSlot,
  checkTtl,
  lastExpiry,
  liveHolders,
  slotMember,
  slotRequest,
  type SlotHolder,
  type SlotState,
  type SlotWaiter,
} from './slot-queue.ts';
import type { SlotRepo } from './store.ts';

export interface StoredSlots {
  _id: string;
  v: number;
  holders: SlotHolder[];
  queue: SlotWaiter[];
  expireAt: Date;
}

/** Lost compare-and-sets before an acquire gives up (each loss means another acquire succeeded). */
const MAX_ATTEMPTS = 100;
const MAX_BACKOFF_MS = 50;

const EMPTY: SlotState = { holders: [], queue: [] };

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export function mongoSlots(slots: Collection<StoredSlots>): SlotRepo {
  return {
    async acquire(key, holder, limit, ttlMs, enqueuedAt) {
      const request = slotRequest(key, holder, limit, ttlMs, enqueuedAt);
      for (let attempt = 1; ; attempt++) {
        const current = await slots.findOne({ _id: request.key });
        const nowMs = Date.now();
        const { state, acquired } = acquireSlot(current ?? EMPTY, request, nowMs);
        const fields = { holders: state.holders, queue: state.queue, expireAt: new Date(lastExpiry(state, nowMs)) };
        if (current === null) {
          try {
            await slots.insertOne({ _id: request.key, v: 1, ...fields });
            return acquired;
          } catch (err) {
            if (!isDuplicateKey(err)) throw err; // else another process created the key first: read again
          }
        } else {
          const result = await slots.updateOne({ _id: request.key, v: current.v }, { $set: { ...fields, v: current.v + 1 } });
          if (result.matchedCount === 1) return acquired;
        }
        if (attempt >= MAX_ATTEMPTS) {
          throw new ConflictError(`slot '${request.key}' is too contended: gave up after ${attempt} attempts`, 'SLOT_CONTENTION');
        }
        await pause(Math.random() * Math.min(MAX_BACKOFF_MS, 2 ** attempt));
      }
    },

    async renew(key, holder, ttlMs) {
      const member = slotMember(key, holder);
      const ttl = checkTtl(ttlMs);
      const nowMs = Date.now();
      const result = await slots.updateOne(
        { _id: member.key, holders: { $elemMatch: { holder: member.holder, expiresMs: { $gt: nowMs } } } },
        { $set: { 'holders.$.expiresMs': nowMs + ttl }, $max: { expireAt: new Date(nowMs + ttl) }, $inc: { v: 1 } },
      );
      return result.matchedCount === 1;
    },

    async release(key, holder) {
      const member = slotMember(key, holder);
      await slots.updateOne(
        { _id: member.key, $or: [{ 'holders.holder': member.holder }, { 'queue.holder': member.holder }] },
        { $pull: { holders: { holder: member.holder }, queue: { holder: member.holder } }, $inc: { v: 1 } },
      );
    },

    async holders(key) {
      const current = await slots.findOne({ _id: key });
      return current === null ? [] : liveHolders(current, Date.now());
    },
  };
}
