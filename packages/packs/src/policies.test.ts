/** policies/*.yaml: StackStorm policy files set on their actions, checked with file:line errors. */
import { describe, expect, it } from 'vitest';
import { executionRequestOf, newExecution } from '@reflex/model';
import { createSqliteStore } from '@reflex/store';
import { loadPack, registerPack } from './index.ts';
import { errorLines, useTempDir } from './test-helpers.ts';

const tmp = useTempDir();

const where = errorLines;

const base = {
  'mon/pack.yaml': 'name: mon\nversion: 1.0.0\n',
  'mon/actions/restart.yaml': `
    name: restart_service
    runner_type: noop
    parameters:
      service: { type: string, required: true }
      host: { type: string }
  `,
  'mon/actions/probe.yaml': `
    name: probe
    runner_type: noop
    parameters:
      url: { type: string }
    policies:
      idempotent: true
      timeout: 5
  `,
};

describe('policies/*.yaml', () => {
  it('sets each enabled policy on its action, next to the policies of the action file', async () => {
    await tmp.write({
      ...base,
      'mon/policies/one_per_host.yaml': `
        name: restart_one_per_host
        description: One restart per host at a time
        resource_ref: mon.restart_service
        policy_type: action.concurrency.attr
        parameters:
          threshold: 1
          attributes: [host]
          action: delay
      `,
      'mon/policies/retry.yaml': `
        name: restart_retry
        resource_ref: mon.restart_service
        policy_type: action.retry
        parameters: { retry_on: [failure, timeout], max_retry_count: 3, delay: 2.5 }
      `,
      'mon/policies/timeout.yaml': `
        name: restart_timeout
        resource_ref: mon.restart_service
        policy_type: action.timeout
        parameters: { timeout: 120 }
      `,
      'mon/policies/probe_limit.yaml': `
        name: probe_limit
        resource_ref: mon.probe
        policy_type: action.concurrency
        parameters: { threshold: 4 }
      `,
      'mon/policies/probe_retry.yaml': `
        name: probe_retry
        resource_ref: mon.probe
        policy_type: action.retry
        parameters: { retry_on: failure }
      `,
      // Disabled: checked, then ignored, so it does not clash with the action file's timeout.
      'mon/policies/probe_timeout.yaml': `
        name: probe_timeout
        resource_ref: mon.probe
        policy_type: action.timeout
        enabled: false
        parameters: { timeout: 60 }
      `,
    });
    const pack = await loadPack(`${tmp.path}/mon`);
    expect(pack.errors).toEqual([]);
    expect(Object.fromEntries(pack.actions.map((a) => [a.ref, a.policies]))).toEqual({
      'mon.restart_service': {
        concurrency: { limit: 1, by: 'host' },
        retry: { on: ['failed', 'timeout'], maxAttempts: 4, delayMs: 2500 },
        timeout: 120,
      },
      // max_retry_count defaults to 2, as in StackStorm: three attempts in all.
      'mon.probe': { idempotent: true, timeout: 5, concurrency: { limit: 4 }, retry: { on: ['failed'], maxAttempts: 3 } },
    });
    expect(pack.policies).toContainEqual({
      ref: 'mon.restart_one_per_host',
      pack: 'mon',
      name: 'restart_one_per_host',
      description: 'One restart per host at a time',
      enabled: true,
      resourceRef: 'mon.restart_service',
      policyType: 'action.concurrency.attr',
      policies: { concurrency: { limit: 1, by: 'host' } },
    });
    expect(pack.policies.map((p) => [p.name, p.enabled])).toEqual([
      ['restart_one_per_host', true],
      ['probe_limit', true],
      ['probe_retry', true],
      ['probe_timeout', false],
      ['restart_retry', true],
      ['restart_timeout', true],
    ]);
    expect(pack.sources.policies.map((s) => s.file)).toEqual([
      'mon/policies/one_per_host.yaml',
      'mon/policies/probe_limit.yaml',
      'mon/policies/probe_retry.yaml',
      'mon/policies/probe_timeout.yaml',
      'mon/policies/retry.yaml',
      'mon/policies/timeout.yaml',
    ]);
  });

  it('registers the action with its merged policies, which every execution request carries', async () => {
    await tmp.write({
      ...base,
      'mon/policies/one_per_host.yaml': 'name: p\nresource_ref: mon.restart_service\npolicy_type: action.concurrency.attr\nparameters: { threshold: 2, attributes: [host] }\n',
      'mon/policies/probe_retry.yaml': 'name: t\nresource_ref: mon.probe\npolicy_type: action.retry\nparameters: { retry_on: timeout, max_retry_count: 0 }\n',
    });
    const store = await createSqliteStore({ path: ':memory:' });
    try {
      await registerPack(store, await loadPack(`${tmp.path}/mon`));
      const restart = await store.actions.get('mon.restart_service');
      expect(restart?.policies).toEqual({ concurrency: { limit: 2, by: 'host' } });
      const probe = await store.actions.get('mon.probe');
      expect(probe?.policies).toEqual({ idempotent: true, timeout: 5, retry: { on: ['timeout'], maxAttempts: 1 } });

      if (restart === null) throw new Error('not registered');
      const execution = newExecution({ id: 'e1', action: restart, parameters: { service: 'nginx', host: 'web1' }, traceId: 't1', now: new Date(0).toISOString() });
      expect(executionRequestOf(execution, restart).policies).toEqual({ concurrency: { limit: 2, by: 'host' } });
    } finally {
      await store.close();
    }
  });

  it('reports what is wrong in a policy file, each with its file:line and field', async () => {
    await tmp.write({
      ...base,
      'mon/policies/a.yaml': `
        name: a
        resource_ref: other.restart_service
        policy_type: action.timeout
        parameters: { timeout: 10 }
      `,
      'mon/policies/b.yaml': `
        name: b
        resource_ref: mon.nothing
        policy_type: action.concurrency
        parameters: { threshold: 1 }
      `,
      'mon/policies/c.yaml': `
        name: c
        resource_ref: mon.restart_service
        policy_type: action.throttle
      `,
      'mon/policies/d.yaml': `
        name: d
        resource_ref: mon.restart_service
        policy_type: action.retry
        parameters:
          retry_on: [failure, crash]
          max_retries: 3
      `,
      'mon/policies/e.yaml': `
        name: e
        resource_ref: mon.restart_service
        policy_type: action.concurrency.attr
        parameters:
          threshold: 0
          attributes: [hostname]
          action: cancel
      `,
      'mon/policies/f.yaml': `
        name: f
        resource_ref: mon.restart_service
        policy_type: action.concurrency.attr
        parameters: { threshold: 1, attributes: [host, service] }
      `,
      'mon/policies/g.yaml': `
        name: g
        resourceRef: mon.restart_service
        policy_type: action.timeout
        parameters: {}
      `,
      'mon/policies/h.yaml': `
        name: a
        resource_ref: not-a-ref
        policy_type: action.timeout
        parameters: { timeout: 10 }
      `,
    });
    const pack = await loadPack(`${tmp.path}/mon`);
    expect(where(pack.errors)).toEqual([
      "mon/policies/a.yaml:2 resource_ref: 'other.restart_service' is an action of pack 'other': a policy goes in the pack of its action (write it in other/policies/)",
      "mon/policies/b.yaml:2 resource_ref: unknown action 'mon.nothing'",
      "mon/policies/c.yaml:3 policy_type: unknown policy type 'action.throttle' (allowed: action.concurrency, action.concurrency.attr, action.retry, action.timeout)",
      'mon/policies/d.yaml:5 parameters.retry_on.1: must be one of "failure", "timeout"',
      'mon/policies/d.yaml:6 parameters.max_retries: unknown parameter of action.retry (allowed: retry_on, max_retry_count, delay)',
      "mon/policies/e.yaml:5 parameters.threshold: must be >= 1",
      "mon/policies/e.yaml:6 parameters.attributes.0: 'hostname' is not a parameter of 'mon.restart_service' (its parameters: service, host)",
      "mon/policies/e.yaml:7 parameters.action: must be 'delay': executions over the threshold wait for a slot (Reflex does not cancel them)",
      'mon/policies/f.yaml:4 parameters.attributes: must list exactly one parameter name: Reflex limits executions per value of one parameter',
      'mon/policies/g.yaml:1 resource_ref: is required',
      'mon/policies/g.yaml:2 resourceRef: is not allowed (write resource_ref)',
      'mon/policies/g.yaml:4 parameters.timeout: is required',
      "mon/policies/h.yaml:1 name: duplicate policy name 'a' (also in mon/policies/a.yaml)",
      "mon/policies/h.yaml:2 resource_ref: must be an action ref (pack.name), like 'mon.restart_service'",
    ]);
    expect(pack.policies).toEqual([]);
    expect(pack.actions.every((a) => a.policies === undefined || a.ref === 'mon.probe')).toBe(true);
  });

  it('refuses a policy that clashes with the action file or with another policy file, naming both places', async () => {
    await tmp.write({
      ...base,
      'mon/policies/a_timeout.yaml': `
        name: probe_timeout
        resource_ref: mon.probe
        policy_type: action.timeout
        parameters: { timeout: 60 }
      `,
      'mon/policies/b_limit.yaml': `
        name: restart_limit
        resource_ref: mon.restart_service
        policy_type: action.concurrency
        parameters: { threshold: 3 }
      `,
      'mon/policies/c_per_host.yaml': `
        name: restart_per_host
        resource_ref: mon.restart_service
        policy_type: action.concurrency.attr
        parameters: { threshold: 1, attributes: [host] }
      `,
    });
    const pack = await loadPack(`${tmp.path}/mon`);
    expect(where(pack.errors)).toEqual([
      "mon/policies/a_timeout.yaml:3 policy_type: 'mon.probe' already has a timeout policy in its own file (mon/actions/probe.yaml:7 policies.timeout): keep one of them",
      "mon/policies/c_per_host.yaml:3 policy_type: 'mon.restart_service' already has a concurrency policy from mon/policies/b_limit.yaml:3 policy_type: keep one of them",
    ]);
    expect(pack.policies.map((p) => p.name)).toEqual(['restart_limit']);
    expect(pack.actions.find((a) => a.ref === 'mon.probe')?.policies).toEqual({ idempotent: true, timeout: 5 });
  });
});
