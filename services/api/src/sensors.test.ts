/**
 * GET /v1/sensors: the sensors of registered packs (read from their folders) with the status the
 * sensors process running each one wrote; `unknown` when none did, `disabled` when switched off.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SENSOR_STATUS_SCOPE, type SensorStatus, type SensorView } from '@reflex/model';
import { loadPack, registerPacks } from '@reflex/packs';
import { notifyChange } from '@reflex/runtime';
import { waitFor } from '../../../test/support/wait.ts';
import { bearer, makeKey, startTestApi, type TestApi } from './testing.ts';

describe('sensors API', () => {
  let t: TestApi;
  let dir: string;
  let viewer: string;

  const get = async <T>(url: string, key = viewer): Promise<{ status: number; body: T }> => {
    const res = await t.app.inject({ url, headers: bearer(key) });
    return { status: res.statusCode, body: res.json() as T };
  };

  beforeAll(async () => {
    t = await startTestApi({ auth: true });
    viewer = await makeKey(t.store, 'viewer');
    dir = await mkdtemp(path.join(tmpdir(), 'reflex-api-sensors-'));
    const files: Record<string, string> = {
      'pack.yaml': 'name: watch\nversion: 1.0.0\n',
      'triggers/seen.yaml': 'name: seen\n',
      'sensors/on.yaml': 'name: on\nentry_point: s.mjs\ntrigger_types: [seen]\npoll_interval: 5\n',
      'sensors/off.yaml': 'name: off\nentry_point: s.mjs\ntrigger_types: [seen]\nenabled: false\n',
      'sensors/s.mjs': 'export default { poll() {} };\n',
    };
    for (const [rel, text] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, 'watch', rel)), { recursive: true });
      await writeFile(path.join(dir, 'watch', rel), text);
    }
  });

  afterAll(async () => {
    await t.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the sensors of registered packs with their status, and follows pack registrations', async () => {
    const before = await get<{ items: SensorView[] }>('/v1/sensors');
    expect(before.status).toBe(200);
    expect(before.body.items.find((s) => s.ref === 'linux.host_metrics')).toMatchObject({ pack: 'linux', triggerTypes: ['linux.disk_usage', 'linux.load'], status: { state: 'unknown' } });

    await registerPacks(t.store, [await loadPack(path.join(dir, 'watch'))]);
    await notifyChange(t.bus, t.names, { topic: 'packs', op: 'register' });
    const status: SensorStatus = {
      ref: 'watch.on',
      state: 'running',
      host: 'box1',
      holder: 'box1:42:abc',
      supervisorPid: 42,
      pid: 43,
      restarts: 2,
      lastError: { message: 'boom', at: '2024-05-01T12:00:00.000Z' },
      pollErrors: 0,
      emitted: 7,
      refused: 0,
      lastEmitAt: '2024-05-01T12:01:00.000Z',
      startedAt: '2024-05-01T11:59:00.000Z',
      updatedAt: '2024-05-01T12:01:00.000Z',
    };
    await t.store.keys.put({ scope: SENSOR_STATUS_SCOPE, name: 'watch.on', value: JSON.parse(JSON.stringify(status)) });

    const listed = await waitFor(async () => {
      const res = await get<{ items: SensorView[] }>('/v1/sensors?pack=watch');
      return res.body.items.length === 2 ? res.body.items : undefined;
    }, 'the new pack sensors');
    expect(listed).toEqual([
      { ref: 'watch.off', pack: 'watch', name: 'off', entryPoint: 'sensors/s.mjs', triggerTypes: ['watch.seen'], enabled: false, status: { state: 'disabled' } },
      { ref: 'watch.on', pack: 'watch', name: 'on', entryPoint: 'sensors/s.mjs', triggerTypes: ['watch.seen'], pollInterval: 5, enabled: true, status },
    ]);
    expect((await get<SensorView>('/v1/sensors/watch.on')).body).toEqual(listed[1]);
  });

  it('answers 404 for a sensor no registered pack has, and keeps the status scope out of the datastore API', async () => {
    const missing = await get<{ error: { code: string } }>('/v1/sensors/watch.nope');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'NOT_FOUND']);
    const admin = await makeKey(t.store, 'admin');
    expect((await get('/v1/keys?scope=sensors.status', admin)).status).toBe(400);
  });
});
