/**
 * The embedded bus's on-disk journal: one SQLite file (node:sqlite, WAL, synchronous=NORMAL)
 * holding streams, unfinished messages, durable consumers, per-durable delivery state and
 * recent msgIds. The bus keeps its working state in memory; the journal only records changes
 * and is read back once, at open.
 *
 * Writes are group-committed: every write queued in one turn of the event loop goes into one
 * transaction, flushed on `setImmediate`. A write's promise resolves after its COMMIT, and
 * `after` callbacks run in queue order right after the commit (the bus uses them to make a
 * published message visible only once it is durable).
 *
 * The file is opened in exclusive locking mode: a second process (or a second bus in this one)
 * opening the same file fails at once instead of both believing they own the messages.
 */
import type { DatabaseSync, StatementSync } from 'node:sqlite';
import { UnavailableError } from '@reflex/model';
import type { BusLogger } from './logger.ts';

export interface JournalMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
  headers: Readonly<Record<string, string>>;
  ts: number;
}

export interface JournalDurable {
  name: string;
  config: string;
  /** Per message seq: deliveries so far and whether this durable is done with it. */
  state: Map<number, { count: number; done: boolean }>;
}

export interface JournalStream {
  name: string;
  config: string;
  lastSeq: number;
  messages: JournalMessage[];
  durables: JournalDurable[];
  dedup: Array<{ msgId: string; seq: number; ts: number }>;
}

const SCHEMA_VERSION = 1;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS streams (
  name TEXT PRIMARY KEY,
  config TEXT NOT NULL,
  last_seq INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
  stream TEXT NOT NULL,
  seq INTEGER NOT NULL,
  subject TEXT NOT NULL,
  headers TEXT,
  data BLOB NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (stream, seq)
);
CREATE TABLE IF NOT EXISTS durables (
  stream TEXT NOT NULL,
  name TEXT NOT NULL,
  config TEXT NOT NULL,
  PRIMARY KEY (stream, name)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS deliveries (
  stream TEXT NOT NULL,
  durable TEXT NOT NULL,
  seq INTEGER NOT NULL,
  count INTEGER NOT NULL DEFAULT 0,
  done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (stream, durable, seq)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS dedup (
  stream TEXT NOT NULL,
  msg_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  ts INTEGER NOT NULL,
  PRIMARY KEY (stream, msg_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS dedup_by_ts ON dedup (stream, ts);
`;

interface Pending {
  op: (() => void) | undefined;
  after: (() => void) | undefined;
  resolve: (() => void) | undefined;
  reject: ((err: unknown) => void) | undefined;
}

export async function openJournal(path: string, logger: BusLogger): Promise<Journal> {
  // Loaded lazily: node:sqlite prints an ExperimentalWarning, which a NATS-only process should not see.
  const { DatabaseSync } = await import('node:sqlite');
  let db: DatabaseSync | undefined;
  try {
    db = new DatabaseSync(path, { timeout: 0 });
    db.exec('PRAGMA locking_mode = EXCLUSIVE; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
    // Take the exclusive lock now, so a second owner fails here rather than on its first write.
    db.exec('BEGIN IMMEDIATE; COMMIT;');
    db.exec(SCHEMA);
    db.exec(`PRAGMA user_version = ${SCHEMA_VERSION}`);
  } catch (err) {
    db?.close();
    throw new UnavailableError(`cannot open the embedded bus file '${path}' (in use by another process?)`, { cause: err });
  }
  return new Journal(db, logger);
}

export class Journal {
  readonly #db: DatabaseSync;
  readonly #logger: BusLogger;
  readonly #stmt: Record<
    | 'upsertStream'
    | 'lastSeq'
    | 'upsertDurable'
    | 'insertMessage'
    | 'insertDedup'
    | 'delivered'
    | 'done'
    | 'deleteMessage'
    | 'deleteDelivery'
    | 'expireMessages'
    | 'expireDeliveries'
    | 'pruneDedup',
    StatementSync
  >;
  #queue: Pending[] = [];
  #scheduled: NodeJS.Immediate | undefined;
  #lastSeq = new Map<string, number>();
  #closed = false;
  /** False while the last transaction failed (disk full, file removed): the bus reports unhealthy. */
  healthy = true;

  constructor(db: DatabaseSync, logger: BusLogger) {
    this.#db = db;
    this.#logger = logger;
    this.#stmt = {
      upsertStream: db.prepare(
        'INSERT INTO streams (name, config) VALUES (?, ?) ON CONFLICT (name) DO UPDATE SET config = excluded.config',
      ),
      lastSeq: db.prepare('UPDATE streams SET last_seq = ? WHERE name = ? AND last_seq < ?'),
      upsertDurable: db.prepare(
        'INSERT INTO durables (stream, name, config) VALUES (?, ?, ?) ON CONFLICT (stream, name) DO UPDATE SET config = excluded.config',
      ),
      insertMessage: db.prepare('INSERT INTO messages (stream, seq, subject, headers, data, ts) VALUES (?, ?, ?, ?, ?, ?)'),
      insertDedup: db.prepare('INSERT OR REPLACE INTO dedup (stream, msg_id, seq, ts) VALUES (?, ?, ?, ?)'),
      delivered: db.prepare(
        'INSERT INTO deliveries (stream, durable, seq, count) VALUES (?, ?, ?, ?) ON CONFLICT (stream, durable, seq) DO UPDATE SET count = excluded.count',
      ),
      done: db.prepare(
        'INSERT INTO deliveries (stream, durable, seq, done) VALUES (?, ?, ?, 1) ON CONFLICT (stream, durable, seq) DO UPDATE SET done = 1',
      ),
      deleteMessage: db.prepare('DELETE FROM messages WHERE stream = ? AND seq = ?'),
      deleteDelivery: db.prepare('DELETE FROM deliveries WHERE stream = ? AND durable = ? AND seq = ?'),
      expireMessages: db.prepare('DELETE FROM messages WHERE stream = ? AND seq <= ?'),
      expireDeliveries: db.prepare('DELETE FROM deliveries WHERE stream = ? AND durable = ? AND seq <= ?'),
      pruneDedup: db.prepare('DELETE FROM dedup WHERE stream = ? AND ts < ?'),
    };
  }

  /** Everything the file holds, read once at open. */
  load(): JournalStream[] {
    const streams = new Map<string, JournalStream>();
    for (const row of this.#db.prepare('SELECT name, config, last_seq FROM streams').iterate()) {
      const name = String(row['name']);
      streams.set(name, {
        name,
        config: String(row['config']),
        lastSeq: Number(row['last_seq']),
        messages: [],
        durables: [],
        dedup: [],
      });
    }
    const messages = this.#db.prepare('SELECT stream, seq, subject, headers, data, ts FROM messages ORDER BY stream, seq');
    for (const row of messages.iterate()) {
      const stream = streams.get(String(row['stream']));
      if (stream === undefined) continue;
      const headers = row['headers'];
      stream.messages.push({
        seq: Number(row['seq']),
        subject: String(row['subject']),
        headers: typeof headers === 'string' ? (JSON.parse(headers) as Record<string, string>) : {},
        data: row['data'] instanceof Uint8Array ? row['data'] : new Uint8Array(),
        ts: Number(row['ts']),
      });
    }
    const durables = new Map<string, JournalDurable>();
    for (const row of this.#db.prepare('SELECT stream, name, config FROM durables').iterate()) {
      const stream = streams.get(String(row['stream']));
      if (stream === undefined) continue;
      const durable: JournalDurable = { name: String(row['name']), config: String(row['config']), state: new Map() };
      stream.durables.push(durable);
      durables.set(`${stream.name}\u0000${durable.name}`, durable);
    }
    for (const row of this.#db.prepare('SELECT stream, durable, seq, count, done FROM deliveries').iterate()) {
      const durable = durables.get(`${String(row['stream'])}\u0000${String(row['durable'])}`);
      durable?.state.set(Number(row['seq']), { count: Number(row['count']), done: Number(row['done']) === 1 });
    }
    for (const row of this.#db.prepare('SELECT stream, msg_id, seq, ts FROM dedup ORDER BY ts').iterate()) {
      streams.get(String(row['stream']))?.dedup.push({
        msgId: String(row['msg_id']),
        seq: Number(row['seq']),
        ts: Number(row['ts']),
      });
    }
    return [...streams.values()];
  }

  putStream(name: string, config: string): Promise<void> {
    return this.#enqueue(() => this.#stmt.upsertStream.run(name, config), undefined, true);
  }

  putDurable(stream: string, name: string, config: string): Promise<void> {
    return this.#enqueue(() => this.#stmt.upsertDurable.run(stream, name, config), undefined, true);
  }

  /** Resolves once the message is committed; `visible` runs right after the commit, in order. */
  appendMessage(stream: string, msg: JournalMessage, msgId: string | undefined, visible: () => void): Promise<void> {
    return this.#enqueue(
      () => {
        const headers = Object.keys(msg.headers).length === 0 ? null : JSON.stringify(msg.headers);
        this.#stmt.insertMessage.run(stream, msg.seq, msg.subject, headers, msg.data, msg.ts);
        if (msgId !== undefined) this.#stmt.insertDedup.run(stream, msgId, msg.seq, msg.ts);
        this.#lastSeq.set(stream, msg.seq);
      },
      visible,
      true,
    );
  }

  /** Resolves after everything queued so far is committed (a duplicate publish waits for its original). */
  barrier(): Promise<void> {
    return this.#enqueue(undefined, undefined, true);
  }

  recordDelivery(stream: string, durable: string, seq: number, count: number): void {
    void this.#enqueue(() => this.#stmt.delivered.run(stream, durable, seq, count), undefined, false);
  }

  markDone(stream: string, durable: string, seq: number): Promise<void> {
    return this.#enqueue(() => this.#stmt.done.run(stream, durable, seq), undefined, true);
  }

  /** Every durable is done with the message: forget it and its delivery rows. */
  deleteMessage(stream: string, seq: number, durables: Iterable<string>): void {
    const names = [...durables];
    void this.#enqueue(
      () => {
        this.#stmt.deleteMessage.run(stream, seq);
        for (const durable of names) this.#stmt.deleteDelivery.run(stream, durable, seq);
      },
      undefined,
      false,
    );
  }

  /** Messages up to `seq` aged out. */
  expireMessages(stream: string, seq: number, durables: Iterable<string>): void {
    const names = [...durables];
    void this.#enqueue(
      () => {
        this.#stmt.expireMessages.run(stream, seq);
        for (const durable of names) this.#stmt.expireDeliveries.run(stream, durable, seq);
      },
      undefined,
      false,
    );
  }

  pruneDedup(stream: string, beforeTs: number): void {
    void this.#enqueue(() => this.#stmt.pruneDedup.run(stream, beforeTs), undefined, false);
  }

  /** Flushes what is queued and closes the file. */
  async close(): Promise<void> {
    if (this.#closed) return;
    if (this.#scheduled !== undefined) clearImmediate(this.#scheduled);
    this.#flush();
    this.#closed = true;
    try {
      this.#db.close();
    } catch (err) {
      this.#logger.warn({ err }, 'embedded bus: closing the journal failed');
    }
  }

  #enqueue(op: (() => void) | undefined, after: (() => void) | undefined, wait: boolean): Promise<void> {
    if (this.#closed) return Promise.reject(new UnavailableError('the embedded bus journal is closed'));
    const pending: Pending = { op, after, resolve: undefined, reject: undefined };
    const promise = wait
      ? new Promise<void>((resolve, reject) => {
          pending.resolve = resolve;
          pending.reject = reject;
        })
      : Promise.resolve();
    this.#queue.push(pending);
    this.#scheduled ??= setImmediate(() => this.#flush());
    return promise;
  }

  #flush(): void {
    this.#scheduled = undefined;
    const batch = this.#queue;
    if (batch.length === 0) return;
    this.#queue = [];
    const lastSeq = this.#lastSeq;
    this.#lastSeq = new Map();
    try {
      this.#db.exec('BEGIN');
      for (const pending of batch) pending.op?.();
      for (const [stream, seq] of lastSeq) this.#stmt.lastSeq.run(seq, stream, seq);
      this.#db.exec('COMMIT');
    } catch (cause) {
      try {
        this.#db.exec('ROLLBACK');
      } catch {
        // The failed statement may have rolled the transaction back already; nothing left to undo.
      }
      this.healthy = false;
      this.#logger.error({ err: cause, writes: batch.length }, 'embedded bus: journal write failed');
      const err = new UnavailableError('the embedded bus could not write its journal', { cause });
      for (const pending of batch) pending.reject?.(err);
      return;
    }
    this.healthy = true;
    for (const pending of batch) {
      try {
        pending.after?.();
      } catch (err) {
        this.#logger.error({ err }, 'embedded bus: applying a committed write failed');
      }
    }
    for (const pending of batch) pending.resolve?.();
  }
}
