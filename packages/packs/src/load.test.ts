import { symlink, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadPack } from './index.ts';
import { useTempDir } from './test-helpers.ts';
import type { PackFileError } from './types.ts';

const tmp = useTempDir();

/** file:line field, the way an author reads it, sorted. */
function where(errors: PackFileError[]): string[] {
  return errors.map((e) => `${e.file}:${e.line ?? '?'} ${e.field}`).sort();
}

const demoPack = {
  'demo/pack.yaml': `
    name: demo
    version: 1.2.0
    description: Demo pack
    author: Ops
    dependencies:
      core: ^0.1.0
    reflex_version: 0.1.0
  `,
  'demo/triggers/alert.yaml': `
    name: alert
    description: An alert from monitoring
    parameters_schema:
      type: object
      properties:
        severity: { type: string }
    payload_schema:
      type: object
      required: [host]
      properties:
        host: { type: string }
  `,
  'demo/actions/restart.yaml': `
    name: restart
    description: Restarts a service
    runner_type: shell
    entry_point: restart.sh
    parameters:
      service:
        type: string
        required: true
      token:
        type: string
        secret: true
      retries:
        type: integer
        default: 3
  `,
  'demo/actions/restart.sh': '#!/bin/sh\nexit 0\n',
  'demo/rules/restart_on_alert.yaml': `
    name: restart_on_alert
    description: Restart what is alerting
    trigger:
      type: demo.alert
      parameters: { severity: high }
    criteria:
      "==": [{ var: payload.host }, web1]
    action:
      ref: demo.restart
      parameters:
        service: "{{ payload.host }}"
        retries: 5
  `,
  'demo/rules/echo.yml': `
    name: echo_alerts
    enabled: false
    trigger: { type: demo.alert }
    action:
      ref: core.echo
      parameters: { message: "{{ payload.host }} is down" }
  `,
};

describe('loadPack', () => {
  it('loads a valid pack and maps the YAML onto the model', async () => {
    await tmp.write(demoPack);
    const pack = await loadPack(path.join(tmp.path, 'demo'));
    expect(pack.errors).toEqual([]);
    expect(pack.dir).toBe(path.join(tmp.path, 'demo'));
    expect(pack.manifest).toEqual({
      name: 'demo',
      version: '1.2.0',
      description: 'Demo pack',
      author: 'Ops',
      dependencies: { core: '^0.1.0' },
      reflexVersion: '0.1.0',
    });
    expect(pack.triggerTypes).toEqual([
      {
        ref: 'demo.alert',
        pack: 'demo',
        name: 'alert',
        description: 'An alert from monitoring',
        parametersSchema: { type: 'object', properties: { severity: { type: 'string' } } },
        payloadSchema: { type: 'object', required: ['host'], properties: { host: { type: 'string' } } },
      },
    ]);
    expect(pack.actions).toEqual([
      {
        ref: 'demo.restart',
        pack: 'demo',
        name: 'restart',
        description: 'Restarts a service',
        enabled: true,
        runner: 'shell',
        entryPoint: 'actions/restart.sh',
        parametersSchema: {
          type: 'object',
          properties: {
            service: { type: 'string' },
            token: { type: 'string', secret: true },
            retries: { type: 'integer', default: 3 },
          },
          required: ['service'],
          additionalProperties: false,
        },
      },
    ]);
    expect(pack.rules.map((r) => [r.pack, r.name, r.enabled])).toEqual([
      ['demo', 'echo_alerts', false],
      ['demo', 'restart_on_alert', true],
    ]);
    expect(pack.rules[1]).toMatchObject({
      trigger: { type: 'demo.alert', parameters: { severity: 'high' } },
      criteria: { '==': [{ var: 'payload.host' }, 'web1'] },
      action: { ref: 'demo.restart', parameters: { service: '{{ payload.host }}', retries: 5 } },
    });
    expect(pack.sources.rules.map((s) => s.file)).toEqual(['demo/rules/echo.yml', 'demo/rules/restart_on_alert.yaml']);
  });

  it('reports every error of every file at once, with file, line and field', async () => {
    await tmp.write({
      'broken/pack.yaml': `
        name: broken
        version: one
        color: blue
      `,
      'broken/triggers/t.yaml': `
        name: t
        parameters_schema:
          type: object
          properties:
            n:
              type: int
              minimum: low
        payload_schema: { type: object, properties: { x: { pattern: "(" } } }
      `,
      'broken/actions/a.yaml': `
        name: a
        runner_type: Shell!
        entryPoint: x.sh
        tags: [x]
        parameters:
          p:
            type: string
            required: yes
          q: 5
          n:
            type: integer
            default: three
      `,
      'broken/rules/r.yaml': `
        name: r
        pack: other
        trigger:
          type: nodot
        action:
          parameters: {}
        enabled: "yes"
      `,
    });
    const pack = await loadPack(path.join(tmp.path, 'broken'));
    expect(pack.manifest).toBeNull();
    expect(where(pack.errors)).toEqual([
      'broken/actions/a.yaml:12 parameters.n.default',
      'broken/actions/a.yaml:2 runner_type',
      'broken/actions/a.yaml:3 entryPoint',
      'broken/actions/a.yaml:4 tags',
      'broken/actions/a.yaml:8 parameters.p.required',
      'broken/actions/a.yaml:9 parameters.q',
      'broken/pack.yaml:2 version',
      'broken/pack.yaml:3 color',
      'broken/rules/r.yaml:2 pack',
      'broken/rules/r.yaml:4 trigger.type',
      'broken/rules/r.yaml:5 action.ref',
      'broken/rules/r.yaml:7 enabled',
      'broken/triggers/t.yaml:6 parameters_schema.properties.n.type',
      'broken/triggers/t.yaml:7 parameters_schema.properties.n.minimum',
      'broken/triggers/t.yaml:8 payload_schema.properties.x.pattern',
    ]);
    const message = (field: string) => pack.errors.find((e) => e.field === field)?.message;
    expect(message('entryPoint')).toBe('is not allowed (write entry_point)');
    expect(message('parameters.p.required')).toBe('must be true or false');
    expect(message('parameters.n.default')).toBe('must be integer');
    expect(message('color')).toBe('is not allowed');
    expect(message('pack')).toBe("is 'other' but the file is in pack 'broken'");
    expect(message('action.ref')).toBe('is required');
    expect(message('parameters_schema.properties.n.type')).toMatch(/^must be one of "array", "boolean"/);
    expect(message('payload_schema.properties.x.pattern')).toMatch(/is not a valid regular expression/);
    expect(pack.triggerTypes).toEqual([]);
    expect(pack.actions).toEqual([]);
    expect(pack.rules).toEqual([]);
  });

  it('reports a YAML syntax error with its line, and still checks the other files', async () => {
    await tmp.write({
      'demo/pack.yaml': 'name: demo\nversion: 1.0.0\n',
      'demo/rules/bad.yaml': `
        name: bad
        trigger:
          type: core.webhook
         action: { ref: core.noop }
      `,
      'demo/actions/dup-keys.yaml': `
        name: x
        runner_type: noop
        name: y
      `,
      'demo/actions/list.yaml': '- name: z\n',
    });
    const pack = await loadPack(path.join(tmp.path, 'demo'));
    expect(pack.errors).toEqual([
      { file: 'demo/actions/dup-keys.yaml', line: 3, column: 1, field: '', message: 'Map keys must be unique' },
      { file: 'demo/actions/list.yaml', line: 1, column: 1, field: '', message: 'must be a YAML mapping (key: value pairs)' },
      { file: 'demo/rules/bad.yaml', line: 4, column: 1, field: '', message: 'All mapping items must start at the same column' },
    ]);
    expect(pack.manifest?.name).toBe('demo');
  });

  it('reports criteria and template errors of rules with their lines', async () => {
    await tmp.write({
      ...demoPack,
      'demo/rules/logic.yaml': `
        name: logic
        trigger: { type: demo.alert }
        criteria:
          and:
            - "==": [{ var: payload.host }, web1]
            - frobnicate: [1]
        action:
          ref: demo.restart
          parameters:
            service: "{{ payload.host "
      `,
    });
    const pack = await loadPack(path.join(tmp.path, 'demo'));
    expect(pack.errors.map((e) => [e.line, e.field, e.message])).toEqual([
      [6, 'criteria.and.1.frobnicate', "unknown operator 'frobnicate'"],
      [10, 'action.parameters.service', expect.stringMatching(/^template does not parse/)],
    ]);
  });

  it('reports a rule that points at an unknown action or trigger type of its own pack', async () => {
    await tmp.write({
      ...demoPack,
      'demo/rules/wrong.yaml': `
        name: wrong
        trigger:
          type: demo.nope
        action:
          ref: demo.missing
      `,
    });
    const pack = await loadPack(path.join(tmp.path, 'demo'));
    expect(pack.errors).toEqual([
      { file: 'demo/rules/wrong.yaml', line: 3, column: 3, field: 'trigger.type', message: "unknown trigger type 'demo.nope'" },
      { file: 'demo/rules/wrong.yaml', line: 5, column: 3, field: 'action.ref', message: "unknown action 'demo.missing'" },
    ]);
  });

  it('checks rule parameters against its own trigger type and action', async () => {
    await tmp.write({
      ...demoPack,
      'demo/rules/params.yaml': `
        name: params
        trigger:
          type: demo.alert
          parameters:
            severity: 5
        action:
          ref: demo.restart
          parameters:
            bogus: 1
            retries: many
            token: "{{ payload.token }}"
      `,
    });
    const pack = await loadPack(path.join(tmp.path, 'demo'));
    expect(pack.errors.map((e) => [e.line, e.field, e.message])).toEqual([
      [5, 'trigger.parameters.severity', "must be string (trigger type 'demo.alert')"],
      [8, 'action.parameters.service', "is required by action 'demo.restart'"],
      [9, 'action.parameters.bogus', "is not a parameter of action 'demo.restart'"],
      [10, 'action.parameters.retries', "must be integer (action 'demo.restart')"],
    ]);
  });

  it('reports duplicate names inside a pack on the later file', async () => {
    await tmp.write({
      'demo/pack.yaml': 'name: demo\nversion: 1.0.0\n',
      'demo/actions/a1.yaml': 'name: same\nrunner_type: noop\n',
      'demo/actions/a2.yaml': 'description: again\nname: same\nrunner_type: noop\n',
      'demo/triggers/t1.yaml': 'name: tick\n',
      'demo/triggers/t2.yaml': 'name: tick\n',
    });
    const pack = await loadPack(path.join(tmp.path, 'demo'));
    expect(pack.errors).toEqual([
      { file: 'demo/triggers/t2.yaml', line: 1, column: 1, field: 'name', message: "duplicate trigger type name 'tick' (also in demo/triggers/t1.yaml)" },
      { file: 'demo/actions/a2.yaml', line: 2, column: 1, field: 'name', message: "duplicate action name 'same' (also in demo/actions/a1.yaml)" },
    ]);
    expect(pack.actions.map((a) => a.ref)).toEqual(['demo.same']);
  });

  it('keeps entry points inside the pack, also through symlinks', async () => {
    await tmp.write({
      'demo/pack.yaml': 'name: demo\nversion: 1.0.0\n',
      'demo/lib/run.sh': 'echo ok\n',
      'outside.sh': 'echo pwned\n',
      'demo/actions/ok.yaml': 'name: ok\nrunner_type: shell\nentry_point: ../lib/run.sh\n',
      'demo/actions/up.yaml': 'name: up\nrunner_type: shell\nentry_point: ../../outside.sh\n',
      'demo/actions/abs.yaml': `name: abs\nrunner_type: shell\nentry_point: ${path.join(tmp.path, 'outside.sh')}\n`,
      'demo/actions/link.yaml': 'name: link\nrunner_type: shell\nentry_point: link.sh\n',
      'demo/actions/missing.yaml': 'name: missing\nrunner_type: shell\nentry_point: nope.sh\n',
      'demo/actions/folder.yaml': 'name: folder\nrunner_type: shell\nentry_point: ../lib\n',
    });
    await symlink(path.join(tmp.path, 'outside.sh'), path.join(tmp.path, 'demo/actions/link.sh'));
    const pack = await loadPack(path.join(tmp.path, 'demo'));
    expect(pack.errors.map((e) => [e.file, e.line, e.field, e.message])).toEqual([
      ['demo/actions/abs.yaml', 3, 'entry_point', 'must be relative to the actions/ folder, not absolute'],
      ['demo/actions/folder.yaml', 3, 'entry_point', 'is not a file'],
      ['demo/actions/link.yaml', 3, 'entry_point', 'is a symlink that leads outside the pack folder'],
      ['demo/actions/missing.yaml', 3, 'entry_point', 'does not exist (looked for actions/nope.sh)'],
      ['demo/actions/up.yaml', 3, 'entry_point', 'escapes the pack folder'],
    ]);
    expect(pack.actions.map((a) => [a.ref, a.entryPoint])).toEqual([['demo.ok', 'lib/run.sh']]);
  });

  it('reports a missing pack.yaml and still checks the content under the folder name', async () => {
    await mkdir(path.join(tmp.path, 'nomanifest/actions'), { recursive: true });
    await writeFile(path.join(tmp.path, 'nomanifest/actions/a.yaml'), 'name: a\nrunner_type: noop\npack: nomanifest\n');
    const pack = await loadPack(path.join(tmp.path, 'nomanifest'));
    expect(pack.manifest).toBeNull();
    expect(pack.errors).toEqual([
      { file: 'nomanifest/pack.yaml', field: '', message: 'is missing: every pack has a pack.yaml (name, version)' },
    ]);
    expect(pack.actions.map((a) => a.ref)).toEqual(['nomanifest.a']);
  });

  it('accepts config.schema.yaml as a JSON Schema or as StackStorm properties, and checks it', async () => {
    await tmp.write({
      'a/pack.yaml': 'name: a\nversion: 1.0.0\n',
      'a/config.schema.yaml': 'type: object\nproperties:\n  token: { type: string, secret: true }\n',
      'b/pack.yaml': 'name: b\nversion: 1.0.0\n',
      'b/config.schema.yaml': 'api_key:\n  type: string\n  required: true\n  secret: true\nretries:\n  type: number\n  default: x\n',
    });
    expect((await loadPack(path.join(tmp.path, 'a'))).errors).toEqual([]);
    expect((await loadPack(path.join(tmp.path, 'b'))).errors).toEqual([
      { file: 'b/config.schema.yaml', line: 7, column: 3, field: 'retries.default', message: 'must be number' },
    ]);
  });

  it('refuses secret: true below the top-level properties of config.schema.yaml (it would be stored in the clear)', async () => {
    const nested = 'secret: true works only on top-level properties of the configuration (nested values are not sealed); move the secret to the top level';
    await tmp.write({
      'c/pack.yaml': 'name: c\nversion: 1.0.0\n',
      'c/config.schema.yaml': 'type: object\nproperties:\n  auth:\n    type: object\n    properties:\n      token: { type: string, secret: true }\n',
      'd/pack.yaml': 'name: d\nversion: 1.0.0\n',
      'd/config.schema.yaml': 'auth:\n  type: object\n  properties:\n    token:\n      type: string\n      secret: true\n',
    });
    expect((await loadPack(path.join(tmp.path, 'c'))).errors).toEqual([
      expect.objectContaining({ file: 'c/config.schema.yaml', line: 6, field: 'properties.auth.properties.token.secret', message: nested }),
    ]);
    expect((await loadPack(path.join(tmp.path, 'd'))).errors).toEqual([
      expect.objectContaining({ file: 'd/config.schema.yaml', line: 6, field: 'auth.properties.token.secret', message: nested }),
    ]);
  });

  it('maps snake_case throttle and group keys onto the model, leaving JSON-logic alone, and names YAML fields in errors', async () => {
    await tmp.write({
      'n/pack.yaml': 'name: n\nversion: 1.0.0\n',
      'n/rules/grouped.yaml': `
        name: grouped
        trigger: { type: core.webhook, parameters: { url: x } }
        group:
          group_by: [payload.body.labels.alertname]
          group_wait: 30s
          group_interval: 5m
          repeat_interval: 4h
          alert_key: [payload.body.fingerprint]
          notify_resolved: false
          resolve_timeout: 1h
          resolved: { missing_some: [1, [payload.body.a, payload.body.b]] }
        action: { ref: core.noop }
      `,
      'n/rules/throttled.yaml': `
        name: throttled
        trigger: { type: core.webhook, parameters: { url: x } }
        throttle: { mode: threshold, window: 10m, threshold: 3, group_by: [payload.body.host] }
        action: { ref: core.noop }
      `,
      'bad/pack.yaml': 'name: bad\nversion: 1.0.0\n',
      'bad/rules/a.yaml': `
        name: a
        trigger: { type: core.webhook, parameters: { url: x } }
        group:
          groupBy: [payload.x]
        action: { ref: core.noop }
      `,
      'bad/rules/b.yaml': `
        name: b
        trigger: { type: core.webhook, parameters: { url: x } }
        group:
          group_wait: soon
          group_by: [payload.a.name, payload.b.name]
        action: { ref: core.noop }
      `,
    });
    const pack = await loadPack(path.join(tmp.path, 'n'));
    expect(pack.errors).toEqual([]);
    expect(pack.rules[0]?.group).toEqual({
      groupBy: ['payload.body.labels.alertname'],
      groupWait: '30s',
      groupInterval: '5m',
      repeatInterval: '4h',
      alertKey: ['payload.body.fingerprint'],
      notifyResolved: false,
      resolveTimeout: '1h',
      resolved: { missing_some: [1, ['payload.body.a', 'payload.body.b']] },
    });
    expect(pack.rules[1]?.throttle).toEqual({ mode: 'threshold', window: '10m', threshold: 3, groupBy: ['payload.body.host'] });
    const bad = await loadPack(path.join(tmp.path, 'bad'));
    expect(bad.errors.map((e) => `${e.file}:${e.line ?? '?'} ${e.field}: ${e.message}`)).toEqual([
      'bad/rules/a.yaml:4 group.groupBy: is not allowed (write group_by)',
      expect.stringMatching(/^bad\/rules\/b\.yaml:5 group\.group_by\.1: .*both end in 'name'/),
      expect.stringMatching(/^bad\/rules\/b\.yaml:4 group\.group_wait: must be a duration like/),
    ]);
  });

  it('loads webhook trigger types, which need a url parameter', async () => {
    await tmp.write({
      'w/pack.yaml': 'name: w\nversion: 1.0.0\n',
      'w/triggers/am.yaml': `
        name: am
        webhook: { split: alerts, item: alert }
        parameters_schema: { type: object, required: [url], properties: { url: { type: string } } }
      `,
      'w/triggers/nourl.yaml': `
        name: nourl
        webhook: {}
      `,
      'w/triggers/badsplit.yaml': `
        name: badsplit
        webhook: { split: "a.b" }
        parameters_schema: { type: object, required: [url] }
      `,
    });
    const pack = await loadPack(path.join(tmp.path, 'w'));
    expect(pack.triggerTypes.map((t) => [t.ref, t.webhook])).toEqual([['w.am', { split: 'alerts', item: 'alert' }]]);
    expect(where(pack.errors)).toEqual(['w/triggers/badsplit.yaml:2 webhook.split', 'w/triggers/nourl.yaml:1 parameters_schema']);
  });
});
