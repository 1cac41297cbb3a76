/**
 * Concurrency slots on SQLite: `slot_holders` and `slot_queue` rows per key. An acquire reads the
 * key's rows, applies the shared algorithm (slot-queue.ts) and writes back what changed, all in one
 * `BEGIN IMMEDIATE` transaction: two processes on one file cannot both take the last slot.
 */
import { acquireSlot, checkTtl, liveHolders, slotMember, slotRequest, type SlotState } from './slot-queue.ts';
import type { SqliteOps } from './sqlite-ops.ts';
import type { SlotRepo } from './store.ts';

/** Rows of `before` missing from `after` (by holder), and rows of `after` that are new or changed. */
function changes<T extends { holder: string }>(
  before: readonly T[],
  after: readonly T[],
  same: (a: T, b: T) => boolean,
): { removed: string[]; written: T[] } {
  const old = new Map(before.map((row) => [row.holder, row]));
  const kept = new Set(after.map((row) => row.holder));
  return {
    removed: before.filter((row) => !kept.has(row.holder)).map((row) => row.holder),
    written: after.filter((row) => {
      const previous = old.get(row.holder);
      return previous === undefined || !same(previous, row);
    }),
  };
}

export function sqliteSlots(ops: SqliteOps): SlotRepo {
  const read = (key: string): SlotState => ({
    holders: ops.all('SELECT holder, acquired_ms, expires_ms FROM slot_holders WHERE key = ?', key).map((row) => ({
      holder: String(row['holder']),
      acquiredMs: Number(row['acquired_ms']),
      expiresMs: Number(row['expires_ms']),
    })),
    queue: ops.all('SELECT holder, enqueued_ms, expires_ms FROM slot_queue WHERE key = ?', key).map((row) => ({
      holder: String(row['holder']),
      enqueuedMs: Number(row['enqueued_ms']),
      expiresMs: Number(row['expires_ms']),
    })),
  });

  const write = (key: string, before: SlotState, after: SlotState): void => {
    const holders = changes(before.holders, after.holders, (a, b) => a.acquiredMs === b.acquiredMs && a.expiresMs === b.expiresMs);
    for (const holder of holders.removed) ops.run('DELETE FROM slot_holders WHERE key = ? AND holder = ?', key, holder);
    for (const h of holders.written) {
      ops.run(
        `INSERT INTO slot_holders (key, holder, acquired_ms, expires_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (key, holder) DO UPDATE SET acquired_ms = excluded.acquired_ms, expires_ms = excluded.expires_ms`,
        key,
        h.holder,
        h.acquiredMs,
        h.expiresMs,
      );
    }
    const queue = changes(before.queue, after.queue, (a, b) => a.enqueuedMs === b.enqueuedMs && a.expiresMs === b.expiresMs);
    for (const holder of queue.removed) ops.run('DELETE FROM slot_queue WHERE key = ? AND holder = ?', key, holder);
    for (const w of queue.written) {
      ops.run(
        `INSERT INTO slot_queue (key, holder, enqueued_ms, expires_ms) VALUES (?, ?, ?, ?)
         ON CONFLICT (key, holder) DO UPDATE SET enqueued_ms = excluded.enqueued_ms, expires_ms = excluded.expires_ms`,
        key,
        w.holder,
        w.enqueuedMs,
        w.expiresMs,
      );
    }
  };

  return {
    async acquire(key, holder, limit, ttlMs, enqueuedAt) {
      const request = slotRequest(key, holder, limit, ttlMs, enqueuedAt);
      return ops.transaction(() => {
        // Read the clock once the write lock is held: no other writer can act between it and COMMIT.
        const nowMs = Date.now();
        const before = read(request.key);
        const { state, acquired } = acquireSlot(before, request, nowMs);
        write(request.key, before, state);
        return acquired;
      });
    },

    async renew(key, holder, ttlMs) {
      const member = slotMember(key, holder);
      const ttl = checkTtl(ttlMs);
      const nowMs = Date.now();
      return (
        ops.run(
          'UPDATE slot_holders SET expires_ms = ? WHERE key = ? AND holder = ? AND expires_ms > ?',
          nowMs + ttl,
          member.key,
          member.holder,
          nowMs,
        ) > 0
      );
    },

    async release(key, holder) {
      const member = slotMember(key, holder);
      ops.transaction(() => {
        ops.run('DELETE FROM slot_holders WHERE key = ? AND holder = ?', member.key, member.holder);
        ops.run('DELETE FROM slot_queue WHERE key = ? AND holder = ?', member.key, member.holder);
      });
    },

    async holders(key) {
      return liveHolders(read(key), Date.now());
    },
  };
}
