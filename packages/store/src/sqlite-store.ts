/**
 * The embedded Store: one SQLite file (or `:memory:`) through Node's built-in `node:sqlite`.
 * WAL journal, synchronous=NORMAL, a busy timeout so several processes may share the file.
 * Every statement is prepared once and cached. The driver is synchronous, so no other call of
 * this process runs between the statements of one method; across processes, writes that must
 * go together run in one `BEGIN IMMEDIATE` transaction and a transition is one conditional UPDATE.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type SQLInputValue, type StatementSync } from 'node:sqlite';
import {
  ConflictError,
  type Action,
  type Enforcement,
  type Execution,
  type ExecutionStatus,
  type Pack,
  type ReflexEvent,
  type Rule,
  type RuleSource,
  type TriggerType,
} from '@reflex/model';
import { pageQuery, toPage, type PageQuery } from './cursor.ts';
import { expiryOf, resolveRetention } from './retention.ts';
import type { Row, SqliteOps } from './sqlite-ops.ts';
import { sqliteKeyedDocs } from './keyed-docs.ts';
import { sqliteKeys } from './sqlite-keys.ts';
import { decisionRow, INSERT_DECISION, sqliteDecisions, sqliteInhibitions, sqliteNoiseState, sqliteSilences } from './sqlite-noise.ts';
import { sqliteOutputs } from './sqlite-outputs.ts';
import { sqliteApiKeys, sqliteAudit, sqliteRoles, sqliteWebhookAuth } from './sqlite-auth.ts';
import { migrate } from './sqlite-schema.ts';
import { sqliteSlots } from './sqlite-slots.ts';
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

export interface SqliteStoreOptions {
  /** The database file (its parent folders are created), or `:memory:`. */
  path: string;
  /** Overrides of DEFAULT_RETENTION; 0 keeps records of that kind forever. */
  retention?: Partial<RetentionConfig>;
  /** How often expired rows are deleted. Default 60 000 ms; 0 turns the sweeper off. */
  sweepIntervalMs?: number;
  /** Told when a background sweep fails (the next sweep tries again). Default: ignored. */
  onSweepError?: (err: unknown) => void;
  /** How long a write waits for another process's lock before failing. Default 5000 ms. */
  busyTimeoutMs?: number;
}

const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
const DEFAULT_BUSY_TIMEOUT_MS = 5000;

function parseDoc<T>(row: Row | undefined): T | null {
  if (row === undefined) return null;
  const doc = row['doc'];
  if (typeof doc !== 'string') throw new TypeError('store row has no JSON document');
  return JSON.parse(doc) as T;
}

function parseDocs<T>(rows: Row[]): T[] {
  return rows.map((row) => parseDoc<T>(row) as T);
}

function positionOf(row: Row): { ms: number; id: string } {
  return { ms: Number(row['created_ms']), id: String(row['id']) };
}

/** A filter as SQL: conditions joined with AND, and their parameters in order. */
class Where {
  readonly conditions: string[] = [];
  readonly params: SQLInputValue[] = [];

  add(condition: string, ...params: SQLInputValue[]): this {
    this.conditions.push(condition);
    this.params.push(...params);
    return this;
  }

  /** Keyset paging: rows strictly after the cursor in (created_ms desc, id desc) order. */
  after(page: PageQuery): this {
    return page.after === undefined ? this : this.add('(created_ms, id) < (?, ?)', page.after.ms, page.after.id);
  }

  toString(): string {
    return this.conditions.length === 0 ? '' : ` WHERE ${this.conditions.join(' AND ')}`;
  }
}

export async function createSqliteStore(options: SqliteStoreOptions): Promise<Store> {
  const retention = resolveRetention(options.retention);
  const sweepIntervalMs = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  const busyTimeoutMs = options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  // ':memory:' and '' (a private temp database) have no file; a `file:` URI is taken as is.
  const hasFile = options.path !== ':memory:' && options.path !== '' && !options.path.startsWith('file:');
  if (hasFile) mkdirSync(dirname(options.path), { recursive: true });

  const db = new DatabaseSync(options.path);
  try {
    db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    db.exec('PRAGMA journal_mode = WAL');
    db.exec('PRAGMA synchronous = NORMAL');
    migrate(db);
  } catch (err) {
    db.close();
    throw err;
  }

  const statements = new Map<string, StatementSync>();
  /** The prepared statement for `sql`, prepared on first use. */
  const sql = (text: string): StatementSync => {
    let statement = statements.get(text);
    if (statement === undefined) {
      statement = db.prepare(text);
      statements.set(text, statement);
    }
    return statement;
  };
  const get = (text: string, ...params: SQLInputValue[]): Row | undefined => sql(text).get(...params);
  const all = (text: string, ...params: SQLInputValue[]): Row[] => sql(text).all(...params);
  const run = (text: string, ...params: SQLInputValue[]): number => Number(sql(text).run(...params).changes);

  /** Runs `work` in one write transaction (BEGIN IMMEDIATE takes the write lock up front). */
  const transaction = <T>(work: () => T): T => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const result = work();
      db.exec('COMMIT');
      return result;
    } catch (err) {
      if (db.isTransaction) db.exec('ROLLBACK');
      throw err;
    }
  };

  const page = <T>(table: string, where: Where, query: PageQuery): Page<T> => {
    where.after(query);
    const rows = all(
      `SELECT id, created_ms, doc FROM ${table}${where} ORDER BY created_ms DESC, id DESC LIMIT ?`,
      ...where.params,
      query.limit + 1,
    );
    const paged = toPage(rows, query.limit, positionOf);
    return paged.nextCursor === undefined
      ? { items: parseDocs<T>(paged.items) }
      : { items: parseDocs<T>(paged.items), nextCursor: paged.nextCursor };
  };

  // Row values of the derived-id records, computed before any write so bad input changes nothing.
  const eventRow = (event: ReflexEvent): SQLInputValue[] => {
    const createdMs = timeOf(event.occurredAt, 'event.occurredAt');
    return [event.id, event.type, createdMs, expiryOf(createdMs, retention.eventsMs), JSON.stringify(event)];
  };
  const enforcementRow = (enforcement: Enforcement): SQLInputValue[] => {
    const createdMs = timeOf(enforcement.createdAt, 'enforcement.createdAt');
    return [
      enforcement.id,
      enforcement.eventId,
      enforcement.rule,
      createdMs,
      expiryOf(createdMs, retention.executionsMs),
      JSON.stringify(enforcement),
    ];
  };
  const executionRow = (execution: Execution): SQLInputValue[] => {
    const createdMs = timeOf(execution.createdAt, 'execution.createdAt');
    return [
      execution.id,
      execution.action,
      execution.status,
      execution.rule ?? null,
      execution.eventId ?? null,
      createdMs,
      expiryOf(createdMs, retention.executionsMs),
      JSON.stringify(execution),
    ];
  };
  const INSERT_EVENT =
    'INSERT INTO events (id, type, created_ms, expires_ms, doc) VALUES (?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING';
  const INSERT_ENFORCEMENT =
    'INSERT INTO enforcements (id, event_id, rule, created_ms, expires_ms, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING';
  const INSERT_EXECUTION =
    'INSERT INTO executions (id, action, status, rule, event_id, created_ms, expires_ms, doc) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING';

  const packContent = <T extends { ref: string; pack: string }>(table: 'trigger_types' | 'actions'): PackContentRepo<T> => ({
    async upsert(item) {
      run(
        `INSERT INTO ${table} (ref, pack, doc) VALUES (?, ?, ?) ON CONFLICT (ref) DO UPDATE SET pack = excluded.pack, doc = excluded.doc`,
        item.ref,
        item.pack,
        JSON.stringify(item),
      );
    },
    async get(ref) {
      return parseDoc<T>(get(`SELECT doc FROM ${table} WHERE ref = ?`, ref));
    },
    async list(filter = {}) {
      const where = new Where();
      if (filter.pack !== undefined) where.add('pack = ?', filter.pack);
      return parseDocs<T>(all(`SELECT doc FROM ${table}${where} ORDER BY ref`, ...where.params));
    },
    async deleteByPack(pack, keepRefs = []) {
      return run(
        `DELETE FROM ${table} WHERE pack = ? AND ref NOT IN (SELECT value FROM json_each(?))`,
        pack,
        JSON.stringify(keepRefs),
      );
    },
  });

  const ops: SqliteOps = { get, all, run, transaction };

  const purgeExpired = (now: Date = new Date()): PurgeCounts => {
    const nowMs = now.getTime();
    return transaction(() => {
      const counts: PurgeCounts = {
        events: run('DELETE FROM events WHERE expires_ms <= ?', nowMs),
        executions: run('DELETE FROM executions WHERE expires_ms <= ?', nowMs),
        enforcements: run('DELETE FROM enforcements WHERE expires_ms <= ?', nowMs),
        outputs: run('DELETE FROM output_chunks WHERE expires_ms <= ?', nowMs),
      };
      // Slots and waiters that timed out on keys nobody acquires any more, judged by the clock the
      // slots run on (not `now`, which a caller may set ahead to purge records early).
      const clockMs = Date.now();
      run('DELETE FROM slot_holders WHERE expires_ms <= ?', clockMs);
      run('DELETE FROM slot_queue WHERE expires_ms <= ?', clockMs);
      // Expired tokens are useless; they are not counted (keys stay, revoked or expired).
      run('DELETE FROM api_keys WHERE purge_ms <= ?', nowMs);
      run('DELETE FROM kv WHERE expires_ms <= ?', nowMs);
      // Noise control: state past its expiry, decisions past retention, silences long over.
      run('DELETE FROM noise_state WHERE expires_ms <= ?', nowMs);
      run('DELETE FROM decisions WHERE expires_ms <= ?', nowMs);
      if (retention.eventsMs > 0) run('DELETE FROM silences WHERE ends_ms <= ?', nowMs - retention.eventsMs);
      return counts;
    });
  };

  let sweeper: NodeJS.Timeout | undefined;
  if (sweepIntervalMs > 0) {
    sweeper = setInterval(() => {
      try {
        purgeExpired();
      } catch (err) {
        // A busy or failing sweep is retried by the next tick; the caller may want to hear of it.
        options.onSweepError?.(err);
      }
    }, sweepIntervalMs);
    sweeper.unref();
  }
  let closed = false;

  return {
    packs: (() => {
      const docs = sqliteKeyedDocs<Pack>(ops, 'packs', 'name', (pack) => pack.name);
      return { upsert: docs.put, get: docs.get, list: docs.list, delete: docs.delete };
    })(),


    triggerTypes: packContent<TriggerType>('trigger_types'),
    actions: packContent<Action>('actions'),

    rules: {
      async insert(rule: Rule) {
        const inserted = run(
          'INSERT INTO rules (ref, pack, source, trigger_type, enabled, doc) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (ref) DO NOTHING',
          rule.ref,
          rule.pack,
          rule.source,
          rule.trigger.type,
          rule.enabled ? 1 : 0,
          JSON.stringify(rule),
        );
        if (inserted === 0) throw new ConflictError(`rule '${rule.ref}' already exists`, 'RULE_EXISTS');
      },
      async put(rule: Rule) {
        run(
          `INSERT INTO rules (ref, pack, source, trigger_type, enabled, doc) VALUES (?, ?, ?, ?, ?, ?)
           ON CONFLICT (ref) DO UPDATE SET pack = excluded.pack, source = excluded.source,
             trigger_type = excluded.trigger_type, enabled = excluded.enabled, doc = excluded.doc`,
          rule.ref,
          rule.pack,
          rule.source,
          rule.trigger.type,
          rule.enabled ? 1 : 0,
          JSON.stringify(rule),
        );
      },
      async get(ref) {
        return parseDoc<Rule>(get('SELECT doc FROM rules WHERE ref = ?', ref));
      },
      async list(filter: RuleFilter = {}) {
        const where = new Where();
        if (filter.pack !== undefined) where.add('pack = ?', filter.pack);
        if (filter.source !== undefined) where.add('source = ?', filter.source);
        if (filter.triggerType !== undefined) where.add('trigger_type = ?', filter.triggerType);
        if (filter.enabled !== undefined) where.add('enabled = ?', filter.enabled ? 1 : 0);
        return parseDocs<Rule>(all(`SELECT doc FROM rules${where} ORDER BY ref`, ...where.params));
      },
      async delete(ref) {
        return run('DELETE FROM rules WHERE ref = ?', ref) > 0;
      },
      async deleteByPack(pack: string, source: RuleSource, keepRefs: string[] = []) {
        return run(
          'DELETE FROM rules WHERE pack = ? AND source = ? AND ref NOT IN (SELECT value FROM json_each(?))',
          pack,
          source,
          JSON.stringify(keepRefs),
        );
      },
    },

    events: {
      async insert(event) {
        run(INSERT_EVENT, ...eventRow(event));
      },
      async get(id) {
        return parseDoc<ReflexEvent>(get('SELECT doc FROM events WHERE id = ?', id));
      },
      async list(filter: EventFilter, options?: PageOptions) {
        const query = pageQuery(options);
        const where = new Where();
        if (filter.type !== undefined) where.add('type = ?', filter.type);
        if (filter.since !== undefined) where.add('created_ms >= ?', timeOf(filter.since, 'since'));
        if (filter.until !== undefined) where.add('created_ms < ?', timeOf(filter.until, 'until'));
        return page<ReflexEvent>('events', where, query);
      },
    },

    enforcements: {
      async get(id) {
        return parseDoc<Enforcement>(get('SELECT doc FROM enforcements WHERE id = ?', id));
      },
      async listByEvent(eventId) {
        return parseDocs<Enforcement>(
          all('SELECT doc FROM enforcements WHERE event_id = ? ORDER BY created_ms, id', eventId),
        );
      },
      async list(filter: { rule?: string }, options?: PageOptions) {
        const query = pageQuery(options);
        const where = new Where();
        if (filter.rule !== undefined) where.add('rule = ?', filter.rule);
        return page<Enforcement>('enforcements', where, query);
      },
    },

    executions: {
      async insert(execution) {
        return run(INSERT_EXECUTION, ...executionRow(execution)) === 1;
      },
      async get(id) {
        return parseDoc<Execution>(get('SELECT doc FROM executions WHERE id = ?', id));
      },
      async list(filter: ExecutionFilter, options?: PageOptions) {
        const query = pageQuery(options);
        const where = new Where();
        if (filter.action !== undefined) where.add('action = ?', filter.action);
        if (filter.status !== undefined) where.add('status = ?', filter.status);
        if (filter.rule !== undefined) where.add('rule = ?', filter.rule);
        if (filter.eventId !== undefined) where.add('event_id = ?', filter.eventId);
        return page<Execution>('executions', where, query);
      },
      async transition(id: string, to: ExecutionStatus, patch?: ExecutionPatch, from?: ExecutionStatus[]) {
        const sources = transitionSources(to, from);
        const entries = patchEntries(patch);
        const updatedAt = new Date().toISOString();
        // One statement per set of patched fields (the field names come from a fixed list). The
        // history entry is appended by the same statement, so it lands with the status or not at all.
        const sets = entries.map(([field]) => `, '$.${field}', json(?)`).join('');
        const updated = get(
          `UPDATE executions SET status = ?, doc = json_set(doc, '$.status', ?, '$.updatedAt', ?${sets},
             '$.history', json_insert(coalesce(json_extract(doc, '$.history'), json('[]')), '$[#]', json(?)))
           WHERE id = ? AND status IN (SELECT value FROM json_each(?)) RETURNING doc`,
          to,
          to,
          updatedAt,
          ...entries.map(([, value]) => JSON.stringify(value)),
          JSON.stringify(historyEntry(to, updatedAt, patch)),
          id,
          JSON.stringify(sources),
        );
        if (updated !== undefined) return parseDoc<Execution>(updated) as Execution;
        const current = get('SELECT status FROM executions WHERE id = ?', id)?.['status'];
        throw refusedTransition(id, current as ExecutionStatus | undefined, to, sources);
      },
      async delete(id) {
        return transaction(() => {
          run('DELETE FROM output_chunks WHERE execution_id = ?', id);
          return run('DELETE FROM executions WHERE id = ?', id) > 0;
        });
      },
    },

    outputs: sqliteOutputs(ops, retention),
    slots: sqliteSlots(ops),
    apiKeys: sqliteApiKeys(ops),
    roles: sqliteRoles(ops),
    audit: sqliteAudit(ops),
    webhookAuth: sqliteWebhookAuth(ops),
    keys: sqliteKeys(ops),
    noiseState: sqliteNoiseState(ops),
    decisions: sqliteDecisions(ops, retention),
    silences: sqliteSilences(ops),
    inhibitions: sqliteInhibitions(ops),

    async record(batch: FiringRecord[]) {
      const events = batch.map((firing) => eventRow(firing.event));
      const enforcements = batch.flatMap((firing) => firing.enforcements.map(enforcementRow));
      const executions = batch.flatMap((firing) => firing.executions.map(executionRow));
      const decisions = batch.flatMap((firing) => (firing.decisions ?? []).map((d) => decisionRow(d, retention)));
      transaction(() => {
        for (const row of events) run(INSERT_EVENT, ...row);
        for (const row of enforcements) run(INSERT_ENFORCEMENT, ...row);
        for (const row of executions) run(INSERT_EXECUTION, ...row);
        for (const row of decisions) run(INSERT_DECISION, ...row);
      });
    },

    async purgeExpired(now?: Date) {
      return purgeExpired(now);
    },

    async ping() {
      get('SELECT 1');
    },

    async close() {
      if (closed) return;
      closed = true;
      if (sweeper !== undefined) clearInterval(sweeper);
      statements.clear();
      db.close();
    },
  };
}
