import { executionRequestOf, newExecution, validateUser, type JsonObject } from '@reflex/model';
import { loadPack } from '@reflex/packs';
import { ActionFailedError, builtinRunners, type OutputStream } from '@reflex/runners';
import { concurrencyKey } from '@reflex/worker';
import { describe, expect, it } from 'vitest';

describe('the examples pack', () => {
  it('loads with zero errors', async () => {
    const pack = await loadPack(import.meta.dirname);
    expect(pack.errors).toEqual([]);
    expect(pack.actions.map((a) => [a.ref, a.runner, a.entryPoint])).toEqual([
      ['examples.disk_usage', 'local-shell-script', 'actions/disk_usage.sh'],
      ['examples.format_alert', 'nodejs', 'actions/format_alert.ts'],
    ]);
    expect(pack.policies.map((p) => [p.ref, p.policyType])).toEqual([['examples.disk_usage_one_per_path', 'action.concurrency.attr']]);
    expect(pack.aliases.map((a) => [a.ref, a.actionRef, a.formats.length])).toEqual([['examples.format_alert', 'examples.format_alert', 2]]);
  });

  it('sets its policy file on disk_usage: one check per path at a time, as the worker reads it', async () => {
    const pack = await loadPack(import.meta.dirname);
    const action = pack.actions.find((a) => a.ref === 'examples.disk_usage');
    if (action === undefined) throw new Error('no examples.disk_usage');
    expect(action.policies).toEqual({ concurrency: { limit: 1, by: 'path' } });
    const slot = (path: string) => {
      const execution = newExecution({ id: path, action, parameters: { path }, traceId: 't', now: new Date(0).toISOString() });
      return concurrencyKey(executionRequestOf(execution, action));
    };
    expect(slot('/var')).toBe(slot('/var'));
    expect(slot('/var')).not.toBe(slot('/home'));
  });

  it('runs each action as Reflex would: loaded, parameters defaulted and checked, then run', async () => {
    const pack = await loadPack(import.meta.dirname);
    const runners = new Map(builtinRunners().map((r) => [r.name, r]));
    const execute = async (ref: string, parameters: JsonObject) => {
      const action = pack.actions.find((a) => a.ref === ref);
      if (action === undefined) throw new Error(`no ${ref}`);
      validateUser(action.parametersSchema, parameters, 'parameters', ref);
      const runner = runners.get(action.runner);
      if (runner === undefined) throw new Error(`no runner ${action.runner}`);
      const lines: Array<[OutputStream, string]> = [];
      const request = { executionId: 'x', action: ref, runner: action.runner, pack: 'examples', parameters, traceId: 't', ...(action.entryPoint === undefined ? {} : { entryPoint: action.entryPoint }) };
      const result = await runner.run(request, { signal: new AbortController().signal, packDir: pack.dir, onOutput: (s, l) => lines.push([s, l]) });
      return { result, lines };
    };

    const disk = await execute('examples.disk_usage', { threshold: 101 });
    expect(disk.result).toMatchObject({ exitCode: 0, succeeded: true });
    expect(disk.lines).toEqual([['stdout', expect.stringMatching(/^\{"used_percent": \d+, "threshold": 101\}$/)]]);
    await expect(execute('examples.disk_usage', { path: '/', threshold: 0 })).rejects.toBeInstanceOf(ActionFailedError);

    const alert = await execute('examples.format_alert', { host: 'web1', value: 85 });
    expect(alert.result).toEqual({ severity: 'warning', text: 'web1: disk at 85 (warning)' });
  });
});
