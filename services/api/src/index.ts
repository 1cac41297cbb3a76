export { buildApi } from './app.ts';
export type { ApiDeps, AuthOptions } from './deps.ts';
export { DEFAULT_LIMITS, type Limits } from './rate-limits.ts';
