/**
 * The Store port: what people look back at. Services talk to this interface only; the SQLite
 * adapter (embedded default, `node:sqlite`) and the MongoDB adapter implement it, and one
 * conformance suite (test/conformance.ts) runs against both.
 *
 * Rules every adapter honours:
 * - Writes of derived-id records (events, enforcements, executions) are idempotent: writing the
 *   same id again changes nothing and is not an error.
 * - `executions.transition` is an atomic compare-and-set on the status; an illegal move (see
 *   `canTransition` in the model) or a lost race is refused with ConflictError, never applied.
 * - Lists that can grow without bound (events, enforcements, executions) are paged with an
 *   opaque cursor, newest first (`createdAt` desc, then `id` desc; an event's time is its
 *   `occurredAt`). Times compare as instants, not as strings.
 * - Events and executions expire after their retention period (TTL), on by default, counted from
 *   the same time. An execution's output chunks expire with it (counted from its `createdAt`).
 * - Values come back as they went in (deep-equal JSON); absent optional fields stay absent.
 */
import type {
  Action,
  ApiKey,
  ApiKeyKind,
  AuditEntry,
  Decision,
  DecisionOutcome,
  Enforcement,
  Inhibition,
  JsonObject,
  Silence,
  Execution,
  JsonValue,
  ExecutionStatus,
  Pack,
  ReflexEvent,
  Role,
  Rule,
  RuleSource,
  TriggerType,
  WebhookAuth,
} from '@reflex/model';

export interface PageOptions {
  /** Default 50, at most 1000. */
  limit?: number;
  /** From the previous page's `nextCursor`. A malformed cursor is a ValidationError (field `cursor`). */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Present when there may be more. */
  nextCursor?: string;
}

export interface PackRepo {
  upsert(pack: Pack): Promise<void>;
  get(name: string): Promise<Pack | null>;
  list(): Promise<Pack[]>;
  delete(name: string): Promise<boolean>;
}

/** Trigger types and actions are registered by packs and replaced as a whole per pack. */
export interface PackContentRepo<T extends { ref: string; pack: string }> {
  upsert(item: T): Promise<void>;
  get(ref: string): Promise<T | null>;
  list(filter?: { pack?: string }): Promise<T[]>;
  /** Deletes the pack's items whose ref is not in `keepRefs`; returns how many. */
  deleteByPack(pack: string, keepRefs?: string[]): Promise<number>;
}

export interface RuleFilter {
  pack?: string;
  enabled?: boolean;
  triggerType?: string;
  source?: RuleSource;
}

export interface RuleRepo {
  /** ConflictError (code RULE_EXISTS) when the ref is taken. */
  insert(rule: Rule): Promise<void>;
  /** Create or replace. */
  put(rule: Rule): Promise<void>;
  get(ref: string): Promise<Rule | null>;
  /** All matching rules, ordered by ref. Rules are configuration: thousands, not millions. */
  list(filter?: RuleFilter): Promise<Rule[]>;
  delete(ref: string): Promise<boolean>;
  /** Deletes rules of `pack` from `source` whose ref is not in `keepRefs`; returns how many. */
  deleteByPack(pack: string, source: RuleSource, keepRefs?: string[]): Promise<number>;
}

export interface EventFilter {
  type?: string;
  /** ISO time; events that occurred at or after it. Not a time: ValidationError (field `since`). */
  since?: string;
  /** ISO time; events that occurred before it. Not a time: ValidationError (field `until`). */
  until?: string;
}

export interface EventRepo {
  /** Idempotent by id. */
  insert(event: ReflexEvent): Promise<void>;
  get(id: string): Promise<ReflexEvent | null>;
  list(filter: EventFilter, page?: PageOptions): Promise<Page<ReflexEvent>>;
}

export interface EnforcementRepo {
  get(id: string): Promise<Enforcement | null>;
  /** Oldest first. */
  listByEvent(eventId: string): Promise<Enforcement[]>;
  list(filter: { rule?: string }, page?: PageOptions): Promise<Page<Enforcement>>;
}

export interface ExecutionFilter {
  action?: string;
  status?: ExecutionStatus;
  rule?: string;
  eventId?: string;
}

/**
 * Fields a transition may set besides the status. Every transition also appends
 * `{ status, at: updatedAt, attempt?, reason? }` to the execution's `history` (attempt taken from
 * the patch when it sets one; `reason` is only written to that history entry).
 */
export type ExecutionPatch = Partial<
  Pick<Execution, 'result' | 'error' | 'host' | 'attempt' | 'startedAt' | 'finishedAt' | 'waitKey'>
> & { reason?: string };

export interface ExecutionRepo {
  /** Inserts unless the id exists; true when inserted. */
  insert(execution: Execution): Promise<boolean>;
  get(id: string): Promise<Execution | null>;
  list(filter: ExecutionFilter, page?: PageOptions): Promise<Page<Execution>>;
  /**
   * Atomically moves an execution to `to` when its current status is one of `from` (default: every
   * status from which `to` is legal) and applies `patch`; sets `updatedAt`. Returns the new record.
   * NotFoundError when absent; ConflictError (code ILLEGAL_TRANSITION) when the status does not allow it.
   */
  transition(id: string, to: ExecutionStatus, patch?: ExecutionPatch, from?: ExecutionStatus[]): Promise<Execution>;
  /** Removes a record written in a step that could not finish (compensation). */
  delete(id: string): Promise<boolean>;
}

/** A piece of an execution's live output (a line, or a part of a very long line). */
export interface OutputChunk {
  /** 1, 2, 3, ... per execution, in the order produced. */
  seq: number;
  stream: 'stdout' | 'stderr';
  text: string;
  at: string;
}

export interface OutputRepo {
  /**
   * Idempotent per (executionId, seq): a chunk already stored is left as it is. Expires with the
   * executions' retention, counted from the execution's `createdAt` (the chunk's `at` when the
   * execution is not stored). A chunk with a bad seq (not an integer >= 1), stream or time is a
   * ValidationError, and none of the call's chunks is written.
   */
  append(executionId: string, chunks: OutputChunk[]): Promise<void>;
  /** Chunks with seq > afterSeq (default 0), ascending, at most `limit` (default 1000, max 10000). */
  list(executionId: string, afterSeq?: number, limit?: number): Promise<OutputChunk[]>;
  /** The highest seq stored for the execution, 0 when none (a retry's output continues after it). */
  lastSeq(executionId: string): Promise<number>;
}

/**
 * Concurrency slots shared by every runner process: at most `limit` holders per key. Waiting holders
 * queue in `enqueuedAt` order (then holder id), and a free slot goes only to the head of the queue,
 * so executions start in the order they were requested: with `n` slots free, a waiter takes one only
 * when fewer than `n` waiters are ahead of it. Times are the adapter process's clock.
 */
export interface SlotRepo {
  /**
   * True when `holder` holds a slot of `key` (also when it already did). Otherwise it is queued
   * (or stays queued) and false is returned. Expired slots are freed first. A slot expires `ttlMs`
   * after it was taken or last renewed; a queued holder that does not ask again within `ttlMs` drops
   * out of the queue (so a dead runner's waiter never blocks the line).
   */
  acquire(key: string, holder: string, limit: number, ttlMs: number, enqueuedAt: string): Promise<boolean>;
  /** Extends a held slot; false when it is no longer held. */
  renew(key: string, holder: string, ttlMs: number): Promise<boolean>;
  /** Frees the slot and leaves the queue; no error when it held neither. */
  release(key: string, holder: string): Promise<void>;
  /** Holders of `key` now (for tests and the API). */
  holders(key: string): Promise<string[]>;
}

export interface ApiKeyFilter {
  kind?: ApiKeyKind;
  role?: string;
  /** Default false: revoked keys are left out. */
  includeRevoked?: boolean;
}

/**
 * API keys and tokens. The record holds the SHA-256 of the key, never the key. Tokens (kind
 * `token`) are deleted by `purgeExpired` once past their `expiresAt`; keys stay (revoked ones too,
 * so the audit trail can name them).
 */
export interface ApiKeyRepo {
  /** ConflictError (code APIKEY_EXISTS) when the id is taken. */
  insert(key: ApiKey): Promise<void>;
  get(id: string): Promise<ApiKey | null>;
  /** Oldest first (`createdAt`, then id). */
  list(filter?: ApiKeyFilter): Promise<ApiKey[]>;
  /** Sets `revokedAt` (once: a second revoke keeps the first time); the record after, null when absent. */
  revoke(id: string, at: string): Promise<ApiKey | null>;
}

/** Custom roles (the built-in ones live in code). */
export interface RoleRepo {
  /** Create or replace. */
  put(role: Role): Promise<void>;
  get(name: string): Promise<Role | null>;
  /** By name. */
  list(): Promise<Role[]>;
  delete(name: string): Promise<boolean>;
}

export interface AuditFilter {
  /** Actor id (key id) or name. */
  actor?: string;
  action?: string;
  targetType?: string;
  targetId?: string;
  /** ISO time; entries at or after it. */
  since?: string;
  /** ISO time; entries before it. */
  until?: string;
}

/** The audit trail: append-only, kept without expiry, paged newest first (`at` desc, then id desc). */
export interface AuditRepo {
  /** Idempotent by id. A bad `at` is a ValidationError. */
  append(entry: AuditEntry): Promise<void>;
  list(filter: AuditFilter, page?: PageOptions): Promise<Page<AuditEntry>>;
}

/** How each named webhook authenticates its sender (secrets sealed or hashed by the caller). */
export interface WebhookAuthRepo {
  /** Create or replace. */
  put(auth: WebhookAuth): Promise<void>;
  get(url: string): Promise<WebhookAuth | null>;
  /** By url. */
  list(): Promise<WebhookAuth[]>;
  delete(url: string): Promise<boolean>;
}

/** One value of the datastore: any JSON under (scope, name), optionally expiring. */
export interface KeyEntry {
  /** `system`, `pack:<name>`, or an internal scope such as `chat.threads`. */
  scope: string;
  name: string;
  value: JsonValue;
  /** The value is sealed by the caller (encrypted); the store keeps the flag so readers know. */
  secret?: boolean;
  /** After this time the entry reads as absent and is purged. */
  expiresAt?: string;
  updatedAt: string;
}

export interface KeyRepo {
  /** The entry, or null when absent or expired. */
  get(scope: string, name: string): Promise<KeyEntry | null>;
  /** Create or replace; sets updatedAt. */
  put(entry: Omit<KeyEntry, 'updatedAt'>): Promise<KeyEntry>;
  delete(scope: string, name: string): Promise<boolean>;
  /** Live entries of a scope by name, optionally only names starting with `prefix`; at most `limit` (default 1000). */
  list(scope: string, options?: { prefix?: string; limit?: number }): Promise<KeyEntry[]>;
}

/**
 * One piece of noise-control state, shared by every rules-engine replica: a throttle window, an
 * alert group, an active inhibition source. `data` belongs to the rules engine (the store never
 * reads it); `dueAt` tells the engine's scheduler when to look at it; past `expiresAt` it reads
 * as absent and is purged.
 */
export interface NoiseState {
  key: string;
  /** What it belongs to: a rule ref, or `inhibition:<id>`. */
  owner: string;
  data: JsonObject;
  dueAt?: string;
  expiresAt?: string;
  /** 1 when created, +1 on every write. */
  version: number;
  updatedAt: string;
}

/** What an update stores: the state without its bookkeeping. */
export type NoiseStateWrite = Pick<NoiseState, 'owner' | 'data'> & Partial<Pick<NoiseState, 'dueAt' | 'expiresAt'>>;

/** What `apply` returns to `NoiseStateRepo.update`. */
export interface NoiseStateChange<T> {
  /** The new state; `null` deletes it; absent leaves it as it is. */
  write?: NoiseStateWrite | null;
  result: T;
}

export interface NoiseStateRepo {
  /** The state, or null when absent or expired at `now` (default: the adapter's clock). */
  get(key: string, now?: Date): Promise<NoiseState | null>;
  /**
   * Atomic read-modify-write of one key, across every process sharing the store: `apply` gets the
   * current state (null when absent or expired at `now`) and says what to store. `apply` must be
   * pure and synchronous: an adapter may call it again after losing a race; the last call's
   * `result` is returned. A bad `dueAt`/`expiresAt` is a ValidationError and nothing is written.
   */
  update<T>(key: string, now: Date, apply: (current: NoiseState | null) => NoiseStateChange<T>): Promise<T>;
  /** Live states whose `dueAt` is at or before `now`, earliest first, at most `limit` (default 100). */
  listDue(now: Date, limit?: number): Promise<NoiseState[]>;
  /** Live states of an owner (or all), by key, at most `limit` (default 1000). */
  list(filter?: { owner?: string }, limit?: number): Promise<NoiseState[]>;
}

/** Why each rule did (or did not) act on an event; kept as long as enforcements. */
export interface DecisionRepo {
  /** Idempotent by id: a decision already stored is left as it is. */
  insert(decisions: Decision[]): Promise<void>;
  /** Oldest first (`at`, then id). */
  listByEvent(eventId: string): Promise<Decision[]>;
  /** The decisions about one throttle window or alert group (`window.id`), oldest first, at most `limit` (default 100). */
  listByWindow(windowId: string, filter?: { outcome?: DecisionOutcome; limit?: number }): Promise<Decision[]>;
}

/** Silences: kept after they end (decisions name them), purged once ended longer than the events' retention. */
export interface SilenceRepo {
  /** ConflictError (code SILENCE_EXISTS) when the id is taken. */
  insert(silence: Silence): Promise<void>;
  get(id: string): Promise<Silence | null>;
  /** Every stored silence, oldest first (`createdAt`, then id). */
  list(): Promise<Silence[]>;
  /** Ends it at `at` unless it already ended; the record after, null when absent. */
  expire(id: string, at: string): Promise<Silence | null>;
}

export interface InhibitionRepo {
  /** ConflictError (code INHIBITION_EXISTS) when the id is taken. */
  insert(inhibition: Inhibition): Promise<void>;
  get(id: string): Promise<Inhibition | null>;
  /** Oldest first (`createdAt`, then id). */
  list(): Promise<Inhibition[]>;
  delete(id: string): Promise<boolean>;
}

/** Everything one event produced in the rules engine, written as one unit. */
export interface FiringRecord {
  event: ReflexEvent;
  enforcements: Enforcement[];
  executions: Execution[];
  /** What each rule decided about the event (and, for a window's firing, about the window). */
  decisions?: Decision[];
}

export interface RetentionConfig {
  /** Events older than this are deleted. Default 7 days. 0 disables. */
  eventsMs: number;
  /** Executions (and enforcements) older than this are deleted. Default 30 days. 0 disables. */
  executionsMs: number;
}

export const DEFAULT_RETENTION: RetentionConfig = {
  eventsMs: 7 * 24 * 3600 * 1000,
  executionsMs: 30 * 24 * 3600 * 1000,
};

/** What one `purgeExpired` deleted. */
export interface PurgeCounts {
  events: number;
  executions: number;
  enforcements: number;
  /** Output chunks (they expire with their execution). */
  outputs: number;
}

export interface Store {
  readonly packs: PackRepo;
  readonly triggerTypes: PackContentRepo<TriggerType>;
  readonly actions: PackContentRepo<Action>;
  readonly rules: RuleRepo;
  readonly events: EventRepo;
  readonly enforcements: EnforcementRepo;
  readonly executions: ExecutionRepo;
  readonly outputs: OutputRepo;
  readonly slots: SlotRepo;
  readonly apiKeys: ApiKeyRepo;
  readonly roles: RoleRepo;
  readonly audit: AuditRepo;
  readonly webhookAuth: WebhookAuthRepo;
  /** The datastore: key/value entries by scope (also used by services for small shared state). */
  readonly keys: KeyRepo;
  /** Noise control: throttle windows, alert groups, active inhibition sources. */
  readonly noiseState: NoiseStateRepo;
  readonly decisions: DecisionRepo;
  readonly silences: SilenceRepo;
  readonly inhibitions: InhibitionRepo;
  /**
   * Writes a batch of firings (events, their enforcements, executions and decisions) in as few round trips
   * as the backend allows: one transaction on SQLite, one bulk write per collection on MongoDB.
   * Idempotent: records whose id exists are left as they are.
   */
  record(batch: FiringRecord[]): Promise<void>;
  /**
   * Deletes what is past retention (and slots and waiters that timed out); returns counts of the
   * records deleted. Adapters also run this on their own.
   */
  purgeExpired(now?: Date): Promise<PurgeCounts>;
  /** Cheap liveness check. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
