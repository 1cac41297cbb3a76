/** sensors/*.yaml: loaded onto the model, checked with file:line errors, and read back from registered packs. */
import { describe, expect, it } from 'vitest';
import { createSqliteStore } from '@reflex/store';
import { loadPack, registeredSensors, registerPacks } from './index.ts';
import { errorLines, useTempDir } from './test-helpers.ts';

const tmp = useTempDir();

const where = errorLines;

const base = {
  'mon/pack.yaml': 'name: mon\nversion: 1.0.0\n',
  'mon/triggers/disk.yaml': `
    name: disk
    payload_schema:
      type: object
      required: [host]
      properties: { host: { type: string } }
  `,
  'mon/sensors/disk.ts': 'export default {};\n',
};

describe('sensors/*.yaml', () => {
  it('maps the YAML onto SensorDefinition: entry point relative to the pack, trigger names as refs, enabled by default', async () => {
    await tmp.write({
      ...base,
      'mon/sensors/disk.yaml': `
        name: disk_watch
        description: Disk usage
        entry_point: disk.ts
        trigger_types: [disk, mon.disk_other]
        poll_interval: 30
      `,
      'mon/triggers/other.yaml': 'name: disk_other\n',
      'mon/sensors/off.yaml': `
        name: off
        entry_point: disk.ts
        trigger_types: [disk]
        enabled: false
      `,
    });
    const pack = await loadPack(`${tmp.path}/mon`);
    expect(pack.errors).toEqual([]);
    expect(pack.sensors).toEqual([
      { ref: 'mon.disk_watch', pack: 'mon', name: 'disk_watch', description: 'Disk usage', entryPoint: 'sensors/disk.ts', triggerTypes: ['mon.disk', 'mon.disk_other'], pollInterval: 30, enabled: true },
      { ref: 'mon.off', pack: 'mon', name: 'off', entryPoint: 'sensors/disk.ts', triggerTypes: ['mon.disk'], enabled: false },
    ]);
    expect(pack.sources.sensors.map((s) => s.file)).toEqual(['mon/sensors/disk.yaml', 'mon/sensors/off.yaml']);
  });

  it('reports a missing entry point, an unknown trigger type and a bad poll_interval with file:line', async () => {
    await tmp.write({
      ...base,
      'mon/sensors/a.yaml': `
        name: a
        entry_point: nowhere.ts
        trigger_types: [disk]
      `,
      'mon/sensors/b.yaml': `
        name: b
        entry_point: disk.ts
        trigger_types:
          - disk
          - nope
      `,
      'mon/sensors/c.yaml': `
        name: c
        entry_point: disk.ts
        trigger_types: [disk]
        poll_interval: 0
      `,
      'mon/sensors/d.yaml': `
        name: d
        entryPoint: disk.ts
        poll_interval: soon
      `,
      'mon/sensors/e.yaml': `
        name: e
        entry_point: ../../outside.ts
        trigger_types: [disk]
      `,
      'mon/sensors/f.yaml': `
        name: a
        entry_point: disk.yaml
        trigger_types: [disk]
      `,
      'mon/sensors/disk.yaml': 'name: g\nentry_point: disk.ts\ntrigger_types: [disk]\n',
    });
    const pack = await loadPack(`${tmp.path}/mon`);
    expect(where(pack.errors)).toEqual([
      'mon/sensors/a.yaml:2 entry_point: does not exist (looked for sensors/nowhere.ts)',
      'mon/sensors/b.yaml:5 trigger_types.1: unknown trigger type \'mon.nope\'',
      'mon/sensors/c.yaml:4 poll_interval: must be >= 0.1',
      'mon/sensors/d.yaml:1 entry_point: is required',
      'mon/sensors/d.yaml:1 trigger_types: is required',
      'mon/sensors/d.yaml:2 entryPoint: is not allowed (write entry_point)',
      'mon/sensors/d.yaml:3 poll_interval: must be number',
      'mon/sensors/e.yaml:2 entry_point: escapes the pack folder',
      'mon/sensors/f.yaml:1 name: duplicate sensor name \'a\' (also in mon/sensors/a.yaml)',
      'mon/sensors/f.yaml:2 entry_point: must be a TypeScript or JavaScript module (.ts, .mts, .js, .mjs, .cjs)',
    ]);
    expect(pack.sensors.map((s) => s.ref)).toEqual(['mon.g']);
  });

  it('checks trigger types of other packs at registration, and lists the sensors of registered packs', async () => {
    await tmp.write({
      ...base,
      'mon/sensors/disk.yaml': 'name: disk\nentry_point: disk.ts\ntrigger_types: [disk, other.thing]\n',
      'ok/pack.yaml': 'name: ok\nversion: 1.0.0\n',
      'ok/sensors/s.yaml': 'name: s\nentry_point: s.js\ntrigger_types: [mon2.disk]\nenabled: false\n',
      'ok/sensors/s.js': 'export default {};\n',
      'mon2/pack.yaml': 'name: mon2\nversion: 1.0.0\n',
      'mon2/triggers/disk.yaml': 'name: disk\n',
    });
    const store = await createSqliteStore({ path: ':memory:' });
    try {
      const results = await registerPacks(store, [await loadPack(`${tmp.path}/mon`), await loadPack(`${tmp.path}/ok`), await loadPack(`${tmp.path}/mon2`)]);
      const failed = results.find((r) => r.pack === 'mon');
      expect(failed?.ok).toBe(false);
      expect(failed?.ok === false ? where(failed.errors) : []).toEqual(["mon/sensors/disk.yaml:3 trigger_types.1: unknown trigger type 'other.thing'"]);
      expect(results.filter((r) => r.ok).map((r) => r.pack).sort()).toEqual(['mon2', 'ok']);

      const { sensors, problems } = await registeredSensors(store);
      expect(problems).toEqual([]);
      expect(sensors.map((s) => [s.definition.ref, s.definition.enabled, s.modulePath.endsWith('/ok/sensors/s.js')])).toEqual([['ok.s', false, true]]);
    } finally {
      await store.close();
    }
  });
});
