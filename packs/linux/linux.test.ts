/**
 * The linux pack: it loads, the SDK's trigger types say what the YAML says, the sensor reads this
 * host into payloads its trigger types accept, and the rules do what the tests/ fixtures say.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { validateUser, type JsonObject, type JsonValue, type ReflexEvent, type Rule, type SensorDefinition } from '@reflex/model';
import { loadPack } from '@reflex/packs';
import { compileRule } from '@reflex/rules';
import type { SensorContext } from '@reflex/sdk';
import sensor, { realMounts, usageOf } from './sensors/host_metrics.ts';
import { diskUsage, load } from './sensors/trigger-types.ts';

const PACK = import.meta.dirname;

describe('the linux pack', () => {
  it('loads with zero errors: two trigger types, one poll sensor, two rules', async () => {
    const pack = await loadPack(PACK);
    expect(pack.errors).toEqual([]);
    expect(pack.triggerTypes.map((t) => t.ref)).toEqual(['linux.disk_usage', 'linux.load']);
    expect(pack.sensors).toEqual<SensorDefinition[]>([
      {
        ref: 'linux.host_metrics',
        pack: 'linux',
        name: 'host_metrics',
        description: expect.any(String) as string,
        entryPoint: 'sensors/host_metrics.ts',
        triggerTypes: ['linux.disk_usage', 'linux.load'],
        pollInterval: 60,
        enabled: true,
      },
    ]);
    expect(pack.rules.map((r) => r.name)).toEqual(['disk_full_cleanup', 'high_load_to_chat']);
  });

  it('types its events from the same schemas the YAML registers', async () => {
    const pack = await loadPack(PACK);
    for (const definition of [diskUsage, load]) {
      expect(pack.triggerTypes.find((t) => t.ref === definition.ref)?.payloadSchema).toEqual(JSON.parse(JSON.stringify(definition.payloadSchema)));
    }
  });

  it('reads real filesystems from /proc/mounts, each device once, and computes usage the way df does', () => {
    const mounts = realMounts(
      [
        'proc /proc proc rw 0 0',
        '/dev/sda1 / ext4 rw 0 0',
        'tmpfs /run tmpfs rw 0 0',
        '/dev/sda1 /srv/bind ext4 rw 0 0',
        '/dev/sdb1 /mnt/my\\040disk xfs rw 0 0',
        'overlay / overlay rw 0 0',
        'overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0',
        '/dev/sdc1 /scratch/a ext4 rw 0 0',
      ].join('\n'),
      ['/scratch/'],
    );
    expect(mounts).toEqual([
      { device: '/dev/sda1', mount: '/', fstype: 'ext4' },
      { device: '/dev/sdb1', mount: '/mnt/my disk', fstype: 'xfs' },
      { device: 'overlay', mount: '/', fstype: 'overlay' },
    ]);
    // 1000 blocks of 4 KiB, 100 free of which 50 reserved for root: df says 900 / 950 = 94.7 %.
    expect(usageOf('db1', mounts[0]!, { bsize: 4096, blocks: 1000, bfree: 100, bavail: 50, files: 0, ffree: 0 })).toEqual({
      host: 'db1',
      mount: '/',
      device: '/dev/sda1',
      fstype: 'ext4',
      size_bytes: 4096000,
      used_bytes: 3686400,
      free_bytes: 204800,
      used_percent: 94.7,
      inodes_used_percent: null,
    });
  });

  it('polls this host into events its trigger types accept', async () => {
    const pack = await loadPack(PACK);
    const emitted: Array<{ type: string; payload: JsonValue }> = [];
    const ctx: SensorContext<typeof sensor.triggerTypes> = {
      sensor: 'linux.host_metrics',
      pack: 'linux',
      packDir: PACK,
      logger: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
      config: { exclude_mounts: [] },
      kv: { get: async () => null, put: async () => {}, delete: async () => false },
      signal: new AbortController().signal,
      emit: async (payload, options) => {
        emitted.push({ type: options?.type ?? 'linux.disk_usage', payload: payload as JsonValue });
        return { eventId: 'e', traceId: 't' };
      },
    };
    await sensor.poll?.(ctx);
    expect(emitted.filter((e) => e.type === 'linux.load')).toHaveLength(1);
    for (const { type, payload } of emitted) {
      const schema = pack.triggerTypes.find((t) => t.ref === type)?.payloadSchema ?? {};
      expect(() => validateUser(schema, payload, 'payload', type)).not.toThrow();
    }
  });

  it('fires what each tests/ fixture expects, with the expected parameters', async () => {
    const pack = await loadPack(PACK);
    const rules = pack.rules.map((input) => compileRule({ ...input, ref: `linux.${input.name}`, enabled: true, source: 'pack', createdAt: 'x', updatedAt: 'x' } as Rule));
    const files = readdirSync(path.join(PACK, 'tests')).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const file of files) {
      const fixture = parse(readFileSync(path.join(PACK, 'tests', file), 'utf8')) as {
        event: { trigger: string; payload: JsonObject };
        expect: { fire: string[]; actions: Array<{ action: string; parameters?: JsonObject }>; chat?: Array<{ target?: string | null; text?: string }> };
      };
      const schema = pack.triggerTypes.find((t) => t.ref === fixture.event.trigger)?.payloadSchema ?? {};
      expect(() => validateUser(schema, fixture.event.payload, 'payload', file)).not.toThrow();
      const event: ReflexEvent = { id: 'e', type: fixture.event.trigger, source: 'test', payload: fixture.event.payload, occurredAt: '2024-05-01T12:00:00Z', traceId: 't' };
      const ctx = { payload: event.payload, event: { id: 'e', type: event.type, source: 'test', occurredAt: event.occurredAt, traceId: 't' } };
      const fired = rules.filter((r) => r.triggerType === event.type && r.matches(ctx));
      expect(fired.map((r) => r.ref), file).toEqual(fixture.expect.fire);
      expect(fired.map((r) => r.rule.action.ref), file).toEqual(fixture.expect.actions.map((a) => a.action));
      const rendered = fired.map((r) => r.renderParameters(ctx));
      rendered.forEach((parameters, i) => expect(parameters, file).toMatchObject(fixture.expect.actions[i]?.parameters ?? {}));
      const posts = rendered.filter((_p, i) => fired[i]?.rule.action.ref === 'chat.post');
      expect(posts.map((p) => ({ target: p['target'] ?? null, text: p['text'] })), file).toEqual(fixture.expect.chat ?? []);
    }
  });
});
