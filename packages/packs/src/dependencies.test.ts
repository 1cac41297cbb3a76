import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Pack } from '@reflex/model';
import { createSqliteStore, type Store } from '@reflex/store';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dependencyCycles, dependencyOrder } from './dependencies.ts';
import { loadPack, REFLEX_VERSION, registerPack, registerPacks, type PackRegistration } from './index.ts';
import { tempDir, type TempDir } from './test-helpers.ts';

const t1 = new Date('2030-01-01T00:00:00.000Z');

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

/** A pack.yaml: `dependencies` one per line, so each has its own line (4, 5, ...). */
function manifest(name: string, version: string, dependencies: Record<string, string> = {}, extra = ''): Record<string, string> {
  const deps = Object.entries(dependencies).map(([n, r]) => `  ${n}: "${r}"\n`).join('');
  const text = `name: ${name}\nversion: ${version}\n${extra}${deps === '' ? '' : `dependencies:\n${deps}`}`;
  return { [`${name}/pack.yaml`]: text };
}

async function load(...names: string[]) {
  return Promise.all(names.map((n) => loadPack(path.join(tmp.path, n))));
}

function summary(results: PackRegistration[]): Array<[string | null, string | string[]]> {
  return results.map((r) => [r.pack, r.ok ? 'ok' : r.errors.map((e) => `${e.file}:${e.line} ${e.field}: ${e.message}`)]);
}

describe('versions', () => {
  it('REFLEX_VERSION is the version of the root package.json', async () => {
    const root = JSON.parse(await readFile(path.resolve(import.meta.dirname, '../../../package.json'), 'utf8')) as { version: string };
    expect(REFLEX_VERSION).toBe(root.version);
  });

  it('refuses, when the pack loads, a range semver cannot read and a reflex_version that is no version', async () => {
    await tmp.write(manifest('demo', '1.0.0', { core: '^^1', ok: '>=1.0.0 <2' }, 'reflex_version: one\n'));
    const [loaded] = await load('demo');
    expect(loaded?.errors.map((e) => `${e.file}:${e.line} ${e.field}: ${e.message}`)).toEqual([
      "demo/pack.yaml:5 dependencies.core: '^^1' is not a semver range (write e.g. ^1.2.0, ~1.2, >=1.0.0 <2.0.0 or *)",
      "demo/pack.yaml:3 reflex_version: 'one' is not a semver version (write e.g. 0.1.0)",
    ]);
  });

  it('refuses a dependency whose version is outside the range, registered or loaded with it', async () => {
    await tmp.write({ ...manifest('core', '0.1.0'), ...manifest('demo', '1.0.0', { core: '^2.0.0' }), ...manifest('fine', '1.0.0', { core: '~0.1' }) });
    await registerPack(store, (await load('core'))[0]!, t1);
    expect(summary(await registerPacks(store, await load('demo', 'fine'), t1))).toEqual([
      ['demo', ['demo/pack.yaml:4 dependencies.core: needs core ^2.0.0, but core 0.1.0 is registered']],
      ['fine', 'ok'],
    ]);

    await tmp.write(manifest('core', '2.1.0'));
    expect(summary(await registerPacks(store, await load('fine', 'core', 'demo'), t1))).toEqual([
      ['fine', ['fine/pack.yaml:4 dependencies.core: needs core ~0.1, but core 2.1.0 is loaded']],
      ['core', 'ok'],
      ['demo', 'ok'],
    ]);
  });

  it('refuses a dependency that is neither loaded nor registered', async () => {
    await tmp.write(manifest('demo', '1.0.0', { nowhere: '*' }));
    expect(summary(await registerPacks(store, await load('demo'), t1))).toEqual([
      ['demo', ["demo/pack.yaml:4 dependencies.nowhere: pack 'nowhere' is neither loaded nor registered"]],
    ]);
  });

  it('refuses a pack whose reflex_version is newer than the running Reflex', async () => {
    await tmp.write({ ...manifest('future', '1.0.0', {}, 'reflex_version: 0.2.0\n'), ...manifest('today', '1.0.0', {}, 'reflex_version: 0.1.0\n') });
    expect(summary(await registerPacks(store, await load('future', 'today'), t1))).toEqual([
      ['future', ['future/pack.yaml:3 reflex_version: needs Reflex 0.2.0 or later, but this is Reflex 0.1.0']],
      ['today', 'ok'],
    ]);
    expect(summary(await registerPacks(store, await load('future'), { now: t1, reflexVersion: '0.2.0' }))).toEqual([['future', 'ok']]);
  });
});

describe('dependency cycles', () => {
  it('refuses a pack that depends on itself', async () => {
    await tmp.write(manifest('selfish', '1.0.0', { selfish: '*' }));
    expect(summary(await registerPacks(store, await load('selfish'), t1))).toEqual([
      ['selfish', ['selfish/pack.yaml:4 dependencies.selfish: dependency cycle: selfish → selfish']],
    ]);
    expect(await store.packs.list()).toEqual([]);
  });

  it('refuses each pack of a cycle of two, naming the cycle from its side, and registers the others', async () => {
    await tmp.write({ ...manifest('a', '1.0.0', { b: '*' }), ...manifest('b', '1.0.0', { a: '*' }), ...manifest('c', '1.0.0') });
    expect(summary(await registerPacks(store, await load('a', 'b', 'c'), t1))).toEqual([
      ['a', ['a/pack.yaml:4 dependencies.b: dependency cycle: a → b → a']],
      ['b', ['b/pack.yaml:4 dependencies.a: dependency cycle: b → a → b']],
      ['c', 'ok'],
    ]);
    expect((await store.packs.list()).map((p) => p.name)).toEqual(['c']);
  });

  it('refuses each pack of a cycle of three; a pack that needs one of them is refused too', async () => {
    await tmp.write({
      ...manifest('a', '1.0.0', { c: '*', b: '^1.0.0' }),
      ...manifest('b', '1.0.0', { c: '*' }),
      ...manifest('c', '1.0.0', { a: '*' }),
      ...manifest('user', '1.0.0', { a: '*' }),
      ...manifest('free', '1.0.0'),
    });
    const results = await registerPacks(store, await load('a', 'b', 'c', 'user', 'free'), t1);
    expect(summary(results)).toEqual([
      // a → c → a is the shortest cycle through a; a → b → c → a is the same knot.
      ['a', ['a/pack.yaml:4 dependencies.c: dependency cycle: a → c → a']],
      ['b', ['b/pack.yaml:4 dependencies.c: dependency cycle: b → c → a → b']],
      ['c', ['c/pack.yaml:4 dependencies.a: dependency cycle: c → a → c']],
      ['user', ["user/pack.yaml:4 dependencies.a: pack 'a' is neither loaded nor registered"]],
      ['free', 'ok'],
    ]);
    expect((await store.packs.list()).map((p) => p.name)).toEqual(['free']);
  });

  it('refuses a cycle of exactly three packs on each of them', async () => {
    await tmp.write({ ...manifest('x', '1.0.0', { y: '*' }), ...manifest('y', '1.0.0', { z: '*' }), ...manifest('z', '1.0.0', { x: '*' }) });
    expect(summary(await registerPacks(store, await load('x', 'y', 'z'), t1))).toEqual([
      ['x', ['x/pack.yaml:4 dependencies.y: dependency cycle: x → y → z → x']],
      ['y', ['y/pack.yaml:4 dependencies.z: dependency cycle: y → z → x → y']],
      ['z', ['z/pack.yaml:4 dependencies.x: dependency cycle: z → x → y → z']],
    ]);
  });

  it('refuses a pack whose new dependencies close a cycle through a registered pack', async () => {
    await tmp.write({ ...manifest('base', '1.0.0'), ...manifest('app', '1.0.0', { base: '^1' }) });
    await registerPacks(store, await load('base', 'app'), t1);
    await tmp.write(manifest('base', '1.1.0', { app: '*' }));
    expect(summary(await registerPacks(store, await load('base'), t1))).toEqual([
      ['base', ['base/pack.yaml:4 dependencies.app: dependency cycle: base → app → base']],
    ]);
    expect((await store.packs.get('base'))?.version).toBe('1.0.0');
  });
});

describe('registration order', () => {
  it('writes the packs of a batch dependencies first, and reports them in the order given', async () => {
    await tmp.write({ ...manifest('app', '1.0.0', { lib: '*' }), ...manifest('lib', '1.0.0', { base: '*' }), ...manifest('base', '1.0.0'), ...manifest('other', '1.0.0') });
    const written: string[] = [];
    const spy = Object.create(store) as Store;
    Object.defineProperty(spy, 'packs', {
      value: { ...store.packs, get: store.packs.get.bind(store.packs), list: store.packs.list.bind(store.packs), upsert: async (p: Pack) => { written.push(p.name); await store.packs.upsert(p); } },
    });
    const results = await registerPacks(spy, await load('app', 'lib', 'other', 'base'), t1);
    expect(results.map((r) => [r.pack, r.ok])).toEqual([['app', true], ['lib', true], ['other', true], ['base', true]]);
    expect(written).toEqual(['base', 'lib', 'app', 'other']);
  });

  it('orders and finds cycles in plain graphs', () => {
    const graph = new Map([['a', ['b']], ['b', ['c']], ['c', []], ['d', ['d']], ['e', ['f']], ['f', ['e', 'c']]]);
    expect(Object.fromEntries(dependencyCycles(graph))).toEqual({ d: ['d', 'd'], e: ['e', 'f', 'e'], f: ['f', 'e', 'f'] });
    const items = ['a', 'b', 'c'];
    expect(dependencyOrder(items, (i) => i, (i) => graph.get(i) ?? [])).toEqual(['c', 'b', 'a']);
  });
});
