/**
 * SQLite schema, versioned with `PRAGMA user_version`. Each table keeps the record as JSON in `doc`
 * and copies the fields that lists filter and sort on into indexed columns. Times are epoch ms.
 *
 * To change the schema, append a migration; never edit one that has shipped.
 */
import type { DatabaseSync } from 'node:sqlite';
import { ReflexError } from '@reflex/model';

const MIGRATIONS: readonly string[] = [
  // 1: the first schema.
  `
  CREATE TABLE packs (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  ) STRICT;

  CREATE TABLE trigger_types (
    ref  TEXT PRIMARY KEY,
    pack TEXT NOT NULL,
    doc  TEXT NOT NULL
  ) STRICT;
  CREATE INDEX trigger_types_pack ON trigger_types (pack, ref);

  CREATE TABLE actions (
    ref  TEXT PRIMARY KEY,
    pack TEXT NOT NULL,
    doc  TEXT NOT NULL
  ) STRICT;
  CREATE INDEX actions_pack ON actions (pack, ref);

  CREATE TABLE rules (
    ref          TEXT PRIMARY KEY,
    pack         TEXT NOT NULL,
    source       TEXT NOT NULL,
    trigger_type TEXT NOT NULL,
    enabled      INTEGER NOT NULL,
    doc          TEXT NOT NULL
  ) STRICT;
  CREATE INDEX rules_pack_source ON rules (pack, source, ref);
  CREATE INDEX rules_trigger_type ON rules (trigger_type, enabled, ref);

  CREATE TABLE events (
    id         TEXT PRIMARY KEY,
    type       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX events_created ON events (created_ms, id);
  CREATE INDEX events_type_created ON events (type, created_ms, id);
  CREATE INDEX events_expires ON events (expires_ms) WHERE expires_ms IS NOT NULL;

  CREATE TABLE enforcements (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    rule       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX enforcements_created ON enforcements (created_ms, id);
  CREATE INDEX enforcements_event ON enforcements (event_id, created_ms, id);
  CREATE INDEX enforcements_rule_created ON enforcements (rule, created_ms, id);
  CREATE INDEX enforcements_expires ON enforcements (expires_ms) WHERE expires_ms IS NOT NULL;

  CREATE TABLE executions (
    id         TEXT PRIMARY KEY,
    action     TEXT NOT NULL,
    status     TEXT NOT NULL,
    rule       TEXT,
    event_id   TEXT,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX executions_created ON executions (created_ms, id);
  CREATE INDEX executions_action_created ON executions (action, created_ms, id);
  CREATE INDEX executions_status_created ON executions (status, created_ms, id);
  CREATE INDEX executions_rule_created ON executions (rule, created_ms, id) WHERE rule IS NOT NULL;
  CREATE INDEX executions_event_created ON executions (event_id, created_ms, id) WHERE event_id IS NOT NULL;
  CREATE INDEX executions_expires ON executions (expires_ms) WHERE expires_ms IS NOT NULL;
  `,

  // 2: live output of executions, and concurrency slots with their FIFO queues. A chunk's text is
  // a UTF-8 BLOB: a TEXT value would come back cut at its first NUL character.
  `
  CREATE TABLE output_chunks (
    execution_id TEXT NOT NULL,
    seq          INTEGER NOT NULL,
    stream       TEXT NOT NULL,
    text         BLOB NOT NULL,
    at           TEXT NOT NULL,
    expires_ms   INTEGER,
    PRIMARY KEY (execution_id, seq)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX output_chunks_expires ON output_chunks (expires_ms) WHERE expires_ms IS NOT NULL;

  CREATE TABLE slot_holders (
    key         TEXT NOT NULL,
    holder      TEXT NOT NULL,
    acquired_ms INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    PRIMARY KEY (key, holder)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX slot_holders_expires ON slot_holders (expires_ms);

  CREATE TABLE slot_queue (
    key         TEXT NOT NULL,
    holder      TEXT NOT NULL,
    enqueued_ms INTEGER NOT NULL,
    expires_ms  INTEGER NOT NULL,
    PRIMARY KEY (key, holder)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX slot_queue_expires ON slot_queue (expires_ms);
  `,

  // 3: who may do what, and what they did: API keys and tokens (hashes only), custom roles, the
  // audit trail, and the authentication of named webhooks (secrets sealed or hashed).
  `
  CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    revoked    INTEGER NOT NULL,
    purge_ms   INTEGER,
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX api_keys_created ON api_keys (created_ms, id);
  CREATE INDEX api_keys_purge ON api_keys (purge_ms) WHERE purge_ms IS NOT NULL;

  CREATE TABLE roles (
    name TEXT PRIMARY KEY,
    doc  TEXT NOT NULL
  ) STRICT;

  CREATE TABLE audit (
    id          TEXT PRIMARY KEY,
    created_ms  INTEGER NOT NULL,
    actor_id    TEXT,
    actor_name  TEXT NOT NULL,
    action      TEXT NOT NULL,
    target_type TEXT,
    target_id   TEXT,
    doc         TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_created ON audit (created_ms, id);
  CREATE INDEX audit_action_created ON audit (action, created_ms, id);
  CREATE INDEX audit_actor_id_created ON audit (actor_id, created_ms, id);
  CREATE INDEX audit_actor_name_created ON audit (actor_name, created_ms, id);
  CREATE INDEX audit_target_created ON audit (target_type, target_id, created_ms, id);

  CREATE TABLE webhook_auth (
    url TEXT PRIMARY KEY,
    doc TEXT NOT NULL
  ) STRICT;
  `,

  // 4: the datastore: JSON values by (scope, name), optionally expiring.
  `
  CREATE TABLE kv (
    scope      TEXT NOT NULL,
    name       TEXT NOT NULL,
    expires_ms INTEGER,
    doc        TEXT NOT NULL,
    PRIMARY KEY (scope, name)
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX kv_expires ON kv (expires_ms) WHERE expires_ms IS NOT NULL;
  `,

  // 5: noise control: state shared by rules-engine replicas (throttle windows, alert groups, active
  // inhibition sources) with a version for compare-and-set, the decision of every (event, rule),
  // silences and inhibitions.
  `
  CREATE TABLE noise_state (
    key        TEXT PRIMARY KEY,
    owner      TEXT NOT NULL,
    version    INTEGER NOT NULL,
    due_ms     INTEGER,
    expires_ms INTEGER,
    doc        TEXT NOT NULL
  ) STRICT, WITHOUT ROWID;
  CREATE INDEX noise_state_due ON noise_state (due_ms) WHERE due_ms IS NOT NULL;
  CREATE INDEX noise_state_expires ON noise_state (expires_ms) WHERE expires_ms IS NOT NULL;
  CREATE INDEX noise_state_owner ON noise_state (owner, key);

  CREATE TABLE decisions (
    id         TEXT PRIMARY KEY,
    event_id   TEXT NOT NULL,
    window_id  TEXT,
    outcome    TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    expires_ms INTEGER,
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX decisions_event ON decisions (event_id, created_ms, id);
  CREATE INDEX decisions_window ON decisions (window_id, created_ms, id) WHERE window_id IS NOT NULL;
  CREATE INDEX decisions_expires ON decisions (expires_ms) WHERE expires_ms IS NOT NULL;

  CREATE TABLE silences (
    id         TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    ends_ms    INTEGER NOT NULL,
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX silences_created ON silences (created_ms, id);
  CREATE INDEX silences_ends ON silences (ends_ms);

  CREATE TABLE inhibitions (
    id         TEXT PRIMARY KEY,
    created_ms INTEGER NOT NULL,
    doc        TEXT NOT NULL
  ) STRICT;
  CREATE INDEX inhibitions_created ON inhibitions (created_ms, id);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

/** Brings the database to SCHEMA_VERSION; each step commits with its version, or not at all. */
export function migrate(db: DatabaseSync): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    const row = db.prepare('PRAGMA user_version').get();
    const version = typeof row?.['user_version'] === 'number' ? row['user_version'] : 0;
    if (version > SCHEMA_VERSION) {
      throw new ReflexError(
        'STORE_SCHEMA_TOO_NEW',
        `the store's schema is version ${version}; this Reflex knows up to ${SCHEMA_VERSION}: upgrade Reflex`,
      );
    }
    for (let next = version; next < SCHEMA_VERSION; next++) {
      db.exec(MIGRATIONS[next] ?? '');
      db.exec(`PRAGMA user_version = ${next + 1}`);
    }
    db.exec('COMMIT');
  } catch (err) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw err;
  }
}
