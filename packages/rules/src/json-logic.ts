/**
 * The one place that touches json-logic-js's module object.
 *
 * json-logic-js is a UMD file that assigns `module.exports = factory()`. Node cannot see named
 * exports through that (cjs-module-lexer finds none), so `import * as` yields only `default`;
 * the default import is the real object, and its typings describe exactly that object.
 */
import jsonLogicModule from 'json-logic-js';

/** A json-logic operation as json-logic-js calls it: `this` is the current data scope. */
export type Operation = (this: unknown, ...args: unknown[]) => unknown;

export interface JsonLogicRuntime {
  apply(logic: unknown, data: unknown): unknown;
  truthy(value: unknown): boolean;
  addOperation(name: string, op: Operation): void;
}

export const jsonLogic: JsonLogicRuntime = {
  // The typings want RulesLogic, a structural type for hand-written logic; ours is validated JSON.
  apply: (logic, data) => jsonLogicModule.apply(logic as never, data) as unknown,
  truthy: (value) => jsonLogicModule.truthy(value),
  addOperation: (name, op) => jsonLogicModule.add_operation(name, op),
};

/** Operations json-logic-js ships with, minus `log` (it writes to the engine's stdout). */
export const BUILTIN_OPERATIONS: ReadonlySet<string> = new Set([
  'var',
  'missing',
  'missing_some',
  'if',
  '?:',
  '==',
  '===',
  '!=',
  '!==',
  '!',
  '!!',
  'or',
  'and',
  '>',
  '>=',
  '<',
  '<=',
  'max',
  'min',
  '+',
  '-',
  '*',
  '/',
  '%',
  'map',
  'filter',
  'reduce',
  'all',
  'none',
  'some',
  'merge',
  'in',
  'cat',
  'substr',
]);
