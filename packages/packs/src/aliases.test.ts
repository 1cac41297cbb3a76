/** aliases/*.yaml: action aliases loaded onto the model and checked with file:line errors (not run by anything yet). */
import { describe, expect, it } from 'vitest';
import { actionAliasSchema, parseAliasFormat, validateModel } from '@reflex/model';
import { createSqliteStore } from '@reflex/store';
import { loadPack, registerPacks } from './index.ts';
import { errorLines, useTempDir } from './test-helpers.ts';

const tmp = useTempDir();

const where = errorLines;

const base = {
  'mon/pack.yaml': 'name: mon\nversion: 1.0.0\ndependencies:\n  lib: ^1.0.0\n',
  'mon/actions/restart.yaml': `
    name: restart_service
    runner_type: noop
    parameters:
      service: { type: string, required: true }
      host: { type: string }
      timeout: { type: integer, required: true, default: 60 }
  `,
  'lib/pack.yaml': 'name: lib\nversion: 1.0.0\n',
  'lib/actions/notify.yaml': `
    name: notify
    runner_type: noop
    parameters:
      message: { type: string, required: true }
  `,
};

describe('aliases/*.yaml', () => {
  it('maps the YAML onto ActionAlias: formats as { display, representations }, ack and result', async () => {
    await tmp.write({
      ...base,
      'mon/aliases/restart.yaml': `
        name: restart
        description: Restart a service from chat
        action_ref: mon.restart_service
        formats:
          - "restart {{ service }}"
          - display: "restart {{ service }} on {{ host }}"
            representation: ["restart {{ service }} on {{ host }}", "restart {{ service }} @{{ host }}"]
          - representation: ["bounce {{service}}"]
          - "restart {{ service }} with timeout {{ timeout=30 }}"
        ack: { enabled: true, format: "restarting {{ actionalias.name }}…", append_url: false }
        result: { format: "{{ execution.result.stdout }}" }
      `,
      'mon/aliases/notify.yaml': `
        name: notify
        action_ref: lib.notify
        enabled: false
        formats: ["tell {{ message }}"]
      `,
      'mon/aliases/echo.yaml': 'name: echo\naction_ref: core.echo\nformats: ["echo {{ message }}"]\n',
    });
    const pack = await loadPack(`${tmp.path}/mon`);
    expect(pack.errors).toEqual([]);
    expect(pack.aliases).toEqual([
      { ref: 'mon.echo', pack: 'mon', name: 'echo', enabled: true, actionRef: 'core.echo', formats: [{ display: 'echo {{ message }}', representations: ['echo {{ message }}'] }] },
      { ref: 'mon.notify', pack: 'mon', name: 'notify', enabled: false, actionRef: 'lib.notify', formats: [{ display: 'tell {{ message }}', representations: ['tell {{ message }}'] }] },
      {
        ref: 'mon.restart',
        pack: 'mon',
        name: 'restart',
        description: 'Restart a service from chat',
        enabled: true,
        actionRef: 'mon.restart_service',
        formats: [
          { display: 'restart {{ service }}', representations: ['restart {{ service }}'] },
          { display: 'restart {{ service }} on {{ host }}', representations: ['restart {{ service }} on {{ host }}', 'restart {{ service }} @{{ host }}'] },
          { display: 'bounce {{service}}', representations: ['bounce {{service}}'] },
          { display: 'restart {{ service }} with timeout {{ timeout=30 }}', representations: ['restart {{ service }} with timeout {{ timeout=30 }}'] },
        ],
        ack: { enabled: true, format: 'restarting {{ actionalias.name }}…', appendUrl: false },
        result: { enabled: true, format: '{{ execution.result.stdout }}' },
      },
    ]);
    for (const alias of pack.aliases) validateModel(actionAliasSchema, structuredClone(alias), 'alias', 'alias');
    expect(pack.sources.aliases.map((s) => s.file)).toEqual(['mon/aliases/echo.yaml', 'mon/aliases/notify.yaml', 'mon/aliases/restart.yaml']);
    expect(parseAliasFormat('restart {{ service }} with timeout {{ timeout=30 }}').placeholders).toEqual([{ name: 'service' }, { name: 'timeout', default: '30' }]);
  });

  it('reports placeholders, missing required parameters, duplicates and bad refs with file:line', async () => {
    await tmp.write({
      ...base,
      'mon/aliases/a.yaml': `
        name: a
        action_ref: mon.restart_service
        formats:
          - "restart {{ service }}"
          - "restart {{ service }} on {{ hostname }}"
          - display: "kick {{ host }}"
            representation:
              - "kick {{ service }} {{ host }}"
              - "kick {{ host }}"
      `,
      'mon/aliases/b.yaml': `
        name: b
        action_ref: mon.restart_service
        formats:
          - "restart   {{unit}}"
          - "stop {{ service.name }} now"
          - "stop {{ service }} {{ service }}"
          - "stop {{ service"
      `,
      'mon/aliases/c.yaml': `
        name: c
        action_ref: other.thing
        formats: ["thing"]
      `,
      'mon/aliases/d.yaml': `
        name: d
        action_ref: mon.nothing
        formats: ["nothing"]
      `,
      'mon/aliases/e.yaml': `
        name: e
        actionRef: mon.restart_service
        formats:
          - representations: ["x {{ service }}"]
          - display: only a display
        ack: { enabled: yes please }
      `,
      'mon/aliases/f.yaml': `
        name: a
        action_ref: mon.restart_service
        formats: []
      `,
      'mon/aliases/g.yaml': `
        name: g
        action_ref: mon.restart_service
        formats:
          - "go {{ service }}"
          - "go {{service}}"
      `,
    });
    const pack = await loadPack(`${tmp.path}/mon`);
    expect(where(pack.errors)).toEqual([
      "mon/aliases/a.yaml:5 formats.1: placeholder 'hostname' is not a parameter of 'mon.restart_service' (its parameters: service, host, timeout)",
      "mon/aliases/a.yaml:9 formats.2.representation.1: does not give 'service': a required parameter of 'mon.restart_service' without a default (add {{ service }})",
      "mon/aliases/b.yaml:4 formats.0: does not give 'service': a required parameter of 'mon.restart_service' without a default (add {{ service }})",
      "mon/aliases/b.yaml:4 formats.0: duplicate format 'restart   {{unit}}': matches the same messages as mon/aliases/a.yaml:4 formats.0",
      "mon/aliases/b.yaml:4 formats.0: placeholder 'unit' is not a parameter of 'mon.restart_service' (its parameters: service, host, timeout)",
      "mon/aliases/b.yaml:5 formats.1: '{{ service.name }}' is not a placeholder: write {{ name }} or {{ name=default }}",
      "mon/aliases/b.yaml:5 formats.1: does not give 'service': a required parameter of 'mon.restart_service' without a default (add {{ service }})",
      "mon/aliases/b.yaml:6 formats.2: placeholder 'service' appears twice",
      "mon/aliases/b.yaml:7 formats.3: does not give 'service': a required parameter of 'mon.restart_service' without a default (add {{ service }})",
      'mon/aliases/b.yaml:7 formats.3: has a {{ without its }} (or a }} without its {{)',
      "mon/aliases/c.yaml:2 action_ref: 'other.thing' is an action of pack 'other', which mon does not depend on: add other to dependencies in pack.yaml",
      "mon/aliases/d.yaml:2 action_ref: unknown action 'mon.nothing'",
      'mon/aliases/e.yaml:1 action_ref: is required',
      'mon/aliases/e.yaml:2 actionRef: is not allowed (write action_ref)',
      'mon/aliases/e.yaml:4 formats.0.representation: is required',
      'mon/aliases/e.yaml:4 formats.0.representations: is not allowed (write representation)',
      'mon/aliases/e.yaml:5 formats.1.representation: is required',
      'mon/aliases/e.yaml:6 ack.enabled: must be boolean',
      "mon/aliases/f.yaml:1 name: duplicate alias name 'a' (also in mon/aliases/a.yaml)",
      'mon/aliases/f.yaml:3 formats: must NOT have fewer than 1 items',
      "mon/aliases/g.yaml:5 formats.1: duplicate format 'go {{service}}': matches the same messages as mon/aliases/g.yaml:4 formats.0",
    ]);
    expect(pack.aliases.map((a) => a.ref)).toEqual([]);
  });

  it("checks an alias on another pack's action when the pack is registered", async () => {
    await tmp.write({
      ...base,
      'mon/aliases/notify.yaml': `
        name: notify
        action_ref: lib.notify
        formats:
          - "tell {{ message }}"
          - "tell {{ msg }} now"
      `,
      'ok/pack.yaml': 'name: ok\nversion: 1.0.0\ndependencies: { lib: "*" }\n',
      'ok/aliases/notify.yaml': 'name: notify\naction_ref: lib.notify\nformats: ["notify {{ message }}"]\n',
      'gone/pack.yaml': 'name: gone\nversion: 1.0.0\n',
      'gone/aliases/echo.yaml': 'name: echo\naction_ref: core.nothing\nformats: ["echo"]\n',
    });
    const store = await createSqliteStore({ path: ':memory:' });
    try {
      const loaded = await Promise.all(['mon', 'ok', 'gone', 'lib'].map((p) => loadPack(`${tmp.path}/${p}`)));
      expect(loaded.flatMap((p) => p.errors)).toEqual([]);
      const results = await registerPacks(store, loaded);
      const errors = Object.fromEntries(results.map((r) => [r.pack, r.ok ? [] : where(r.errors)]));
      expect(errors).toEqual({
        mon: [
          "mon/aliases/notify.yaml:5 formats.1: does not give 'message': a required parameter of 'lib.notify' without a default (add {{ message }})",
          "mon/aliases/notify.yaml:5 formats.1: placeholder 'msg' is not a parameter of 'lib.notify' (its parameters: message)",
        ],
        ok: [],
        gone: ["gone/aliases/echo.yaml:2 action_ref: unknown action 'core.nothing'"],
        lib: [],
      });
      // Aliases are not stored: the pack registers its actions, nothing else.
      const ok = results.find((r) => r.pack === 'ok');
      expect(ok?.ok === true ? ok.result : undefined).toMatchObject({ pack: 'ok', actions: 0, rules: 0 });
    } finally {
      await store.close();
    }
  });
});
