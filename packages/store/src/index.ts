/** @reflex/store: the Store port and its two adapters. */
export type {
  ApiKeyFilter,
  ApiKeyRepo,
  AuditFilter,
  AuditRepo,
  EnforcementRepo,
  EventFilter,
  EventRepo,
  ExecutionFilter,
  ExecutionPatch,
  ExecutionRepo,
  FiringRecord,
  OutputChunk,
  OutputRepo,
  PackContentRepo,
  PackRepo,
  Page,
  PageOptions,
  PurgeCounts,
  RetentionConfig,
  RoleRepo,
  RuleFilter,
  RuleRepo,
  SlotRepo,
  Store,
  WebhookAuthRepo,
  KeyEntry,
  KeyRepo,
  NoiseState,
  NoiseStateChange,
  NoiseStateRepo,
  NoiseStateWrite,
  DecisionRepo,
  SilenceRepo,
  InhibitionRepo,
} from './store.ts';
export { DEFAULT_RETENTION } from './store.ts';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './cursor.ts';
export { DEFAULT_OUTPUT_LIMIT, MAX_OUTPUT_LIMIT } from './output.ts';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
export { createMongoStore, type MongoStoreOptions } from './mongo-store.ts';
