/** @reflex/store: the Store port and its two adapters. */
export type {
  EnforcementRepo,
  EventFilter,
  EventRepo,
  ExecutionFilter,
  ExecutionPatch,
  ExecutionRepo,
  FiringRecord,
  PackContentRepo,
  PackRepo,
  Page,
  PageOptions,
  RetentionConfig,
  RuleFilter,
  RuleRepo,
  Store,
} from './store.ts';
export { DEFAULT_RETENTION } from './store.ts';
export { DEFAULT_PAGE_LIMIT, MAX_PAGE_LIMIT } from './cursor.ts';
export { createSqliteStore, type SqliteStoreOptions } from './sqlite-store.ts';
export { createMongoStore, type MongoStoreOptions } from './mongo-store.ts';
