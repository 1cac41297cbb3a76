export * from './config.ts';
export * from './connections.ts';
export * from './protocol.ts';
export type * from './service.ts';
export * from './refresher.ts';
export * from './pack-kv.ts';
