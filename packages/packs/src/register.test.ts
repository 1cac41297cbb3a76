import { rm } from 'node:fs/promises';
import path from 'node:path';
import { NotFoundError, ValidationError, type Rule } from '@reflex/model';
import { createSqliteStore, type Store } from '@reflex/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadPack, registerPack, registerPacks, unregisterPack } from './index.ts';
import { tempDir, type TempDir } from './test-helpers.ts';

const coreDir = path.resolve(import.meta.dirname, '../../../packs/core');
const t1 = new Date('2030-01-01T00:00:00.000Z');
const t2 = new Date('2030-01-02T00:00:00.000Z');

let tmp: TempDir;
let store: Store;
beforeEach(async () => {
  tmp = await tempDir();
  store = await createSqliteStore({ path: ':memory:', sweepIntervalMs: 0 });
});
afterEach(async () => {
  await store.close();
  await tmp[Symbol.asyncDispose]();
});

const demo = {
  'demo/pack.yaml': 'name: demo\nversion: 1.0.0\ndependencies:\n  core: ^0.1.0\n',
  'demo/triggers/alert.yaml': 'name: alert\npayload_schema: { type: object }\n',
  'demo/actions/page.yaml': 'name: page\nrunner_type: noop\n',
  'demo/rules/echo.yaml': `
    name: echo
    trigger: { type: core.webhook, parameters: { url: alerts } }
    action: { ref: core.echo, parameters: { message: "{{ payload.body.text }}" } }
  `,
  'demo/rules/page.yaml': `
    name: page
    trigger: { type: demo.alert }
    action: { ref: demo.page }
  `,
};

function apiRule(ref: string): Rule {
  const [pack = '', name = ''] = ref.split('.');
  return {
    ref,
    pack,
    name,
    enabled: true,
    trigger: { type: 'core.interval', parameters: { delay: 1 } },
    action: { ref: 'core.noop' },
    source: 'api',
    createdAt: t1.toISOString(),
    updatedAt: t1.toISOString(),
  };
}

describe('registerPacks', () => {
  it('registers packs whose rules point into each other, with their content', async () => {
    await tmp.write(demo);
    const results = await registerPacks(store, [await loadPack(coreDir), await loadPack(path.join(tmp.path, 'demo'))], t1);
    expect(results.map((r) => [r.pack, r.ok])).toEqual([['core', true], ['demo', true]]);
    expect(results[1]).toMatchObject({ ok: true, result: { pack: 'demo', triggerTypes: 1, actions: 1, rules: 2 } });

    expect(await store.packs.get('demo')).toEqual({
      name: 'demo',
      version: '1.0.0',
      dependencies: { core: '^0.1.0' },
      path: path.join(tmp.path, 'demo'),
      registeredAt: t1.toISOString(),
    });
    expect((await store.triggerTypes.list()).map((t) => t.ref).sort()).toEqual(['core.interval', 'core.webhook', 'demo.alert']);
    const coreActions = (await loadPack(coreDir)).actions.map((a) => a.ref);
    expect((await store.actions.list()).map((a) => a.ref).sort()).toEqual([...coreActions, 'demo.page'].sort());
    expect(await store.rules.get('demo.echo')).toEqual({
      ref: 'demo.echo',
      pack: 'demo',
      name: 'echo',
      enabled: true,
      trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
      action: { ref: 'core.echo', parameters: { message: '{{ payload.body.text }}' } },
      source: 'pack',
      createdAt: t1.toISOString(),
      updatedAt: t1.toISOString(),
    });
  });

  it('replaces a pack on re-registration: keeps createdAt, removes what left the disk, leaves API rules alone', async () => {
    await tmp.write(demo);
    const dir = path.join(tmp.path, 'demo');
    await registerPack(store, await loadPack(coreDir), t1);
    await registerPack(store, await loadPack(dir), t1);
    await store.rules.insert(apiRule('demo.by_hand'));

    await rm(path.join(dir, 'rules/page.yaml'));
    await rm(path.join(dir, 'actions/page.yaml'));
    await rm(path.join(dir, 'triggers/alert.yaml'));
    const result = await registerPack(store, await loadPack(dir), t2);

    expect(result).toEqual({ pack: 'demo', triggerTypes: 0, actions: 0, rules: 1, removed: { triggerTypes: 1, actions: 1, rules: 1 } });
    expect(await store.rules.get('demo.echo')).toMatchObject({ createdAt: t1.toISOString(), updatedAt: t2.toISOString() });
    expect((await store.rules.list({ pack: 'demo' })).map((r) => [r.ref, r.source])).toEqual([
      ['demo.by_hand', 'api'],
      ['demo.echo', 'pack'],
    ]);
    expect(await store.actions.list({ pack: 'demo' })).toEqual([]);
    expect((await store.packs.get('demo'))?.registeredAt).toBe(t2.toISOString());
  });

  it('resolves references against packs already in the store', async () => {
    await tmp.write(demo);
    await registerPack(store, await loadPack(coreDir), t1);
    const result = await registerPack(store, await loadPack(path.join(tmp.path, 'demo')), t1);
    expect(result.rules).toBe(2);
  });

  it('refuses a pack with errors, naming each as file:line field, and writes nothing', async () => {
    await tmp.write({
      'demo/pack.yaml': 'name: demo\nversion: one\n',
      'demo/actions/a.yaml': 'name: a\nrunner_type: noop\nbogus: 1\n',
    });
    const loaded = await loadPack(path.join(tmp.path, 'demo'));
    const err = await registerPack(store, loaded, t1).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).details).toEqual([
      { field: 'demo/pack.yaml:2 version', message: 'must match pattern "^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$"' },
      { field: 'demo/actions/a.yaml:3 bogus', message: 'is not allowed' },
    ]);
    expect((err as ValidationError).message).toMatch(/^pack 'demo' has 2 errors: demo\/pack.yaml:2 version: must match pattern/);
    expect(await store.packs.list()).toEqual([]);
  });

  it('refuses a rule whose action or trigger type is in no loaded pack nor the store', async () => {
    await tmp.write({
      'ops/pack.yaml': 'name: ops\nversion: 1.0.0\n',
      'ops/rules/r.yaml': `
        name: r
        trigger:
          type: core.webhook
          parameters: { url: "../etc" }
        action:
          ref: chat.post
      `,
    });
    const err = await registerPack(store, await loadPack(path.join(tmp.path, 'ops')), t1).catch((e: unknown) => e);
    expect((err as ValidationError).details).toEqual([
      { field: 'ops/rules/r.yaml:3 trigger.type', message: "unknown trigger type 'core.webhook'" },
      { field: 'ops/rules/r.yaml:6 action.ref', message: "unknown action 'chat.post'" },
    ]);

    await registerPack(store, await loadPack(coreDir), t1);
    const again = await registerPack(store, await loadPack(path.join(tmp.path, 'ops')), t1).catch((e: unknown) => e);
    expect((again as ValidationError).details?.map((d) => d.field)).toEqual([
      'ops/rules/r.yaml:4 trigger.parameters.url',
      'ops/rules/r.yaml:6 action.ref',
    ]);
  });

  it('registers the valid packs of a batch and reports the others, also those that relied on a refused one', async () => {
    await tmp.write({
      ...demo,
      'bad/pack.yaml': 'name: bad\nversion: 1.0.0\n',
      'bad/actions/x.yaml': 'name: x\nrunner_type: noop\n',
      'bad/rules/r.yaml': 'name: r\ntrigger: { type: core.interval, parameters: { delay: 0 } }\naction: { ref: core.noop }\n',
      'leans/pack.yaml': 'name: leans\nversion: 1.0.0\ndependencies: { bad: "*" }\n',
      'leans/rules/r.yaml': 'name: r\ntrigger: { type: core.interval, parameters: { delay: 5 } }\naction: { ref: bad.x }\n',
      'lost/pack.yaml': 'name: lost\nversion: 1.0.0\ndependencies: { nowhere: "^1.0.0" }\n',
    });
    const loaded = await Promise.all(['bad', 'leans', 'demo', 'lost'].map((n) => loadPack(path.join(tmp.path, n))));
    const results = await registerPacks(store, [await loadPack(coreDir), ...loaded], t1);
    expect(results.map((r) => (r.ok ? [r.pack, 'ok'] : [r.pack, r.errors.map((e) => `${e.file}:${e.line} ${e.field}: ${e.message}`)]))).toEqual([
      ['core', 'ok'],
      ['bad', ['bad/rules/r.yaml:2 trigger.parameters.delay: must be >= 1 (trigger type \'core.interval\')']],
      [
        'leans',
        [
          "leans/pack.yaml:3 dependencies.bad: pack 'bad' is neither loaded nor registered",
          "leans/rules/r.yaml:3 action.ref: unknown action 'bad.x'",
        ],
      ],
      ['demo', 'ok'],
      ['lost', ["lost/pack.yaml:3 dependencies.nowhere: pack 'nowhere' is neither loaded nor registered"]],
    ]);
    expect((await store.packs.list()).map((p) => p.name).sort()).toEqual(['core', 'demo']);
  });

  it('refuses a pack rule whose ref an API-created rule already has', async () => {
    await tmp.write(demo);
    await registerPack(store, await loadPack(coreDir), t1);
    await store.rules.insert(apiRule('demo.echo'));
    const err = await registerPack(store, await loadPack(path.join(tmp.path, 'demo')), t1).catch((e: unknown) => e);
    expect((err as ValidationError).details).toEqual([
      {
        field: 'demo/rules/echo.yaml:1 name',
        message: "rule 'demo.echo' already exists and was created through the API; rename one of them",
      },
    ]);
  });
});

describe('unregisterPack', () => {
  it('removes the pack and its content but not the API rules of the pack', async () => {
    await tmp.write(demo);
    await registerPacks(store, [await loadPack(coreDir), await loadPack(path.join(tmp.path, 'demo'))], t1);
    await store.rules.insert(apiRule('demo.by_hand'));
    expect(await unregisterPack(store, 'demo')).toEqual({ pack: 'demo', removed: { triggerTypes: 1, actions: 1, rules: 2 } });
    expect(await store.packs.get('demo')).toBeNull();
    expect(await store.triggerTypes.list({ pack: 'demo' })).toEqual([]);
    expect((await store.rules.list({ pack: 'demo' })).map((r) => r.ref)).toEqual(['demo.by_hand']);
    expect((await store.actions.list()).map((a) => a.ref).sort()).toEqual((await loadPack(coreDir)).actions.map((a) => a.ref).sort());
    await expect(unregisterPack(store, 'demo')).rejects.toBeInstanceOf(NotFoundError);
  });
});
