/**
 * Noise control on SQLite (migration 5). A state update reads the row, lets the caller decide and
 * writes the answer in one `BEGIN IMMEDIATE` transaction: two processes on one file never both
 * act on the same window. Decisions are derived-id records written with `record()`.
 */
import type { SQLInputValue } from 'node:sqlite';
import { ConflictError, type Decision, type Inhibition, type Silence } from '@reflex/model';
import { checkNoiseKey, decisionTime, noiseLimit, stampNoiseState } from './noise.ts';
import { expiryOf } from './retention.ts';
import type { Row, SqliteOps } from './sqlite-ops.ts';
import type { DecisionRepo, InhibitionRepo, NoiseState, NoiseStateRepo, RetentionConfig, SilenceRepo } from './store.ts';
import { timeOf } from './time.ts';

function parse<T>(row: Row | undefined): T | null {
  if (row === undefined) return null;
  const doc = row['doc'];
  if (typeof doc !== 'string') throw new TypeError('store row has no JSON document');
  return JSON.parse(doc) as T;
}

const live = (row: Row, nowMs: number): boolean => row['expires_ms'] === null || Number(row['expires_ms']) > nowMs;

export function sqliteNoiseState(ops: SqliteOps): NoiseStateRepo {
  return {
    async get(key, now = new Date()) {
      const row = ops.get('SELECT expires_ms, doc FROM noise_state WHERE key = ?', key);
      return row !== undefined && live(row, now.getTime()) ? parse<NoiseState>(row) : null;
    },

    async update(key, now, apply) {
      checkNoiseKey(key);
      const nowMs = now.getTime();
      return ops.transaction(() => {
        const row = ops.get('SELECT version, expires_ms, doc FROM noise_state WHERE key = ?', key);
        const current = row !== undefined && live(row, nowMs) ? parse<NoiseState>(row) : null;
        const change = apply(current);
        if (change.write === undefined) return change.result;
        if (change.write === null) {
          if (row !== undefined) ops.run('DELETE FROM noise_state WHERE key = ?', key);
          return change.result;
        }
        const version = row === undefined ? 1 : Number(row['version']) + 1;
        const { state, dueMs, expiresMs } = stampNoiseState(key, change.write, version);
        ops.run(
          `INSERT INTO noise_state (key, owner, version, due_ms, expires_ms, doc) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (key) DO UPDATE SET owner = excluded.owner, version = excluded.version, due_ms = excluded.due_ms,
             expires_ms = excluded.expires_ms, doc = excluded.doc`,
          key,
          state.owner,
          version,
          dueMs,
          expiresMs,
          JSON.stringify(state),
        );
        return change.result;
      });
    },

    async listDue(now, limit) {
      const nowMs = now.getTime();
      const rows = ops.all(
        `SELECT doc FROM noise_state WHERE due_ms <= ? AND (expires_ms IS NULL OR expires_ms > ?) ORDER BY due_ms, key LIMIT ?`,
        nowMs,
        nowMs,
        noiseLimit(limit, 100),
      );
      return rows.map((row) => parse<NoiseState>(row) as NoiseState);
    },

    async list(filter = {}, limit) {
      const params: SQLInputValue[] = [Date.now()];
      let where = '(expires_ms IS NULL OR expires_ms > ?)';
      if (filter.owner !== undefined) {
        where += ' AND owner = ?';
        params.push(filter.owner);
      }
      const rows = ops.all(`SELECT doc FROM noise_state WHERE ${where} ORDER BY key LIMIT ?`, ...params, noiseLimit(limit, 1000));
      return rows.map((row) => parse<NoiseState>(row) as NoiseState);
    },
  };
}

export const INSERT_DECISION =
  'INSERT INTO decisions (id, event_id, window_id, outcome, created_ms, expires_ms, doc) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING';

/** Row values of a decision (computed before any write, so a bad time changes nothing). */
export function decisionRow(decision: Decision, retention: RetentionConfig): SQLInputValue[] {
  const createdMs = decisionTime(decision);
  return [
    decision.id,
    decision.eventId,
    decision.window?.id ?? null,
    decision.outcome,
    createdMs,
    expiryOf(createdMs, retention.executionsMs),
    JSON.stringify(decision),
  ];
}

export function sqliteDecisions(ops: SqliteOps, retention: RetentionConfig): DecisionRepo {
  return {
    async insert(decisions) {
      const rows = decisions.map((d) => decisionRow(d, retention));
      ops.transaction(() => {
        for (const row of rows) ops.run(INSERT_DECISION, ...row);
      });
    },
    async listByEvent(eventId) {
      return ops.all('SELECT doc FROM decisions WHERE event_id = ? ORDER BY created_ms, id', eventId).map((row) => parse<Decision>(row) as Decision);
    },
    async listByWindow(windowId, filter = {}) {
      const limit = noiseLimit(filter.limit, 100);
      const rows =
        filter.outcome === undefined
          ? ops.all('SELECT doc FROM decisions WHERE window_id = ? ORDER BY created_ms, id LIMIT ?', windowId, limit)
          : ops.all('SELECT doc FROM decisions WHERE window_id = ? AND outcome = ? ORDER BY created_ms, id LIMIT ?', windowId, filter.outcome, limit);
      return rows.map((row) => parse<Decision>(row) as Decision);
    },
  };
}

export function sqliteSilences(ops: SqliteOps): SilenceRepo {
  return {
    async insert(silence: Silence) {
      const createdMs = timeOf(silence.createdAt, 'createdAt');
      const endsMs = timeOf(silence.endsAt, 'endsAt');
      timeOf(silence.startsAt, 'startsAt');
      const inserted = ops.run(
        'INSERT INTO silences (id, created_ms, ends_ms, doc) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING',
        silence.id,
        createdMs,
        endsMs,
        JSON.stringify(silence),
      );
      if (inserted === 0) throw new ConflictError(`silence '${silence.id}' already exists`, 'SILENCE_EXISTS');
    },
    async get(id) {
      return parse<Silence>(ops.get('SELECT doc FROM silences WHERE id = ?', id));
    },
    async list() {
      return ops.all('SELECT doc FROM silences ORDER BY created_ms, id').map((row) => parse<Silence>(row) as Silence);
    },
    async expire(id, at) {
      const atMs = timeOf(at, 'at');
      return ops.transaction(() => {
        const current = parse<Silence>(ops.get('SELECT doc FROM silences WHERE id = ?', id));
        if (current === null) return null;
        if (timeOf(current.endsAt, 'endsAt') <= atMs) return current;
        const next: Silence = { ...current, endsAt: at, updatedAt: at };
        // A silence that had not started yet ends before it starts: it never applies.
        if (timeOf(next.startsAt, 'startsAt') > atMs) next.startsAt = at;
        ops.run('UPDATE silences SET ends_ms = ?, doc = ? WHERE id = ?', atMs, JSON.stringify(next), id);
        return next;
      });
    },
  };
}

export function sqliteInhibitions(ops: SqliteOps): InhibitionRepo {
  return {
    async insert(inhibition: Inhibition) {
      const inserted = ops.run(
        'INSERT INTO inhibitions (id, created_ms, doc) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING',
        inhibition.id,
        timeOf(inhibition.createdAt, 'createdAt'),
        JSON.stringify(inhibition),
      );
      if (inserted === 0) throw new ConflictError(`inhibition '${inhibition.id}' already exists`, 'INHIBITION_EXISTS');
    },
    async get(id) {
      return parse<Inhibition>(ops.get('SELECT doc FROM inhibitions WHERE id = ?', id));
    },
    async list() {
      return ops.all('SELECT doc FROM inhibitions ORDER BY created_ms, id').map((row) => parse<Inhibition>(row) as Inhibition);
    },
    async delete(id) {
      return ops.run('DELETE FROM inhibitions WHERE id = ?', id) > 0;
    },
  };
}
