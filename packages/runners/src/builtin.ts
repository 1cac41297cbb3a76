import { NonRetriableError } from '@reflex/model';
import { createHttpRunner, type HttpRunnerOptions } from './http.ts';
import { createNodeRunner, type NodeRunnerOptions } from './node.ts';
import type { Runner } from './runner.ts';
import { createShellCommandRunner, createShellScriptRunner, type ShellRunnerOptions } from './shell.ts';

/** `core.noop`: does nothing, succeeds. Useful for tests and benchmarks of the pipeline itself. */
export const noopRunner: Runner = {
  name: 'noop',
  run: async () => ({}),
};

/** `core.echo`: returns its `message` parameter as `{ message }`. */
export const echoRunner: Runner = {
  name: 'echo',
  run: async (request) => {
    const message = request.parameters['message'];
    if (typeof message !== 'string') throw new NonRetriableError('parameters.message must be a string');
    return { message };
  },
};

export interface BuiltinRunnerOptions {
  /**
   * The environment every action process (shell, script, node) starts from; the runner's own is
   * never inherited. Default `{ PATH: DEFAULT_PATH }`. A service passes what actions may see.
   */
  baseEnv?: Record<string, string>;
  shell?: Omit<ShellRunnerOptions, 'baseEnv'>;
  http?: HttpRunnerOptions;
  node?: Omit<NodeRunnerOptions, 'baseEnv'>;
}

/** Every runner Reflex ships: noop, echo, local-shell-cmd, local-shell-script, http-request, nodejs. */
export function builtinRunners(options: BuiltinRunnerOptions = {}): Runner[] {
  const env = options.baseEnv === undefined ? {} : { baseEnv: options.baseEnv };
  return [
    noopRunner,
    echoRunner,
    createShellCommandRunner({ ...options.shell, ...env }),
    createShellScriptRunner({ ...options.shell, ...env }),
    createHttpRunner(options.http),
    createNodeRunner({ ...options.node, ...env }),
  ];
}
