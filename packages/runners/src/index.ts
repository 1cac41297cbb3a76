export type * from './runner.ts';
export * from './builtin.ts';
