import { NonRetriableError } from '@reflex/model';
import type { Runner } from './runner.ts';

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

export function builtinRunners(): Runner[] {
  return [noopRunner, echoRunner];
}
