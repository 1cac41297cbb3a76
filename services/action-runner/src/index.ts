/**
 * The action runner service: a worker hosting the built-in runners (noop, echo, shell, http, node).
 */
import { builtinRunners } from '@reflex/runners';
import type { ServiceHandle } from '@reflex/runtime';
import { startWorker, type WorkerDeps } from '@reflex/worker';

export type ActionRunnerDeps = Omit<WorkerDeps, 'service' | 'runners'> & Partial<Pick<WorkerDeps, 'runners'>>;

export async function startActionRunner(deps: ActionRunnerDeps): Promise<ServiceHandle> {
  return await startWorker({ ...deps, service: 'action-runner', runners: deps.runners ?? builtinRunners() });
}
