export * from './runner.ts';
export * from './errors.ts';
export * from './builtin.ts';
export { createShellCommandRunner, createShellScriptRunner, DEFAULT_PATH, type ShellResult, type ShellRunnerOptions } from './shell.ts';
export { createHttpRunner, HTTP_METHODS, parseRetryAfter, type HttpResult, type HttpRunnerOptions } from './http.ts';
export { createNodeRunner, KV_UNAVAILABLE, type NodeRunnerOptions } from './node.ts';
export type { ActionContext, ActionKv, ActionLogger, NodeAction } from './node-protocol.ts';
