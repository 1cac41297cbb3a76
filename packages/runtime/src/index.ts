// The validated config and the env names (@reflex/config, light enough for the CLI to load alone), for services that import them from here.
export * from '@reflex/config';
export * from './connections.ts';
export * from './protocol.ts';
export type * from './service.ts';
export * from './refresher.ts';
export * from './pack-kv.ts';
