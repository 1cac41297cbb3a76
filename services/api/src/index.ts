export { buildApi } from './app.ts';
export type { ApiDeps } from './deps.ts';
