import { mkdir, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { discoverPacks } from './index.ts';
import { useTempDir } from './test-helpers.ts';

const tmp = useTempDir();

describe('discoverPacks', () => {
  it('loads every pack folder of a base path, good and bad, in name order', async () => {
    await tmp.write({
      'base/good/pack.yaml': 'name: good\nversion: 1.0.0\n',
      'base/good/actions/a.yaml': 'name: a\nrunner_type: noop\n',
      'base/bad/pack.yaml': 'name: bad\nversion: 1\n',
      'base/not-a-pack/README.md': 'just a folder\n',
      'base/.hidden/pack.yaml': 'name: hidden\nversion: 1.0.0\n',
      'base/file.yaml': 'name: loose\n',
    });
    const packs = await discoverPacks([path.join(tmp.path, 'base')]);
    expect(packs.map((p) => [path.basename(p.dir), p.errors.map((e) => `${e.file}:${e.line} ${e.field}`)])).toEqual([
      ['bad', ['bad/pack.yaml:2 version']],
      ['good', []],
    ]);
    expect(packs[1]?.actions.map((a) => a.ref)).toEqual(['good.a']);
  });

  it('takes a base path that is itself a pack, skips missing ones and loads a folder once', async () => {
    await tmp.write({ 'one/pack.yaml': 'name: one\nversion: 1.0.0\n' });
    await mkdir(path.join(tmp.path, 'links'));
    await symlink(path.join(tmp.path, 'one'), path.join(tmp.path, 'links/one'));
    const packs = await discoverPacks([path.join(tmp.path, 'missing'), path.join(tmp.path, 'one'), path.join(tmp.path, 'links')]);
    expect(packs.map((p) => [p.manifest?.name, p.errors])).toEqual([['one', []]]);
    expect(await discoverPacks([path.join(tmp.path, 'nothing-here')])).toEqual([]);
  });

  it('reports the later of two packs with the same name', async () => {
    await tmp.write({
      'a/tools/pack.yaml': 'name: tools\nversion: 1.0.0\n',
      'b/tools2/pack.yaml': 'version: 2.0.0\nname: tools\n',
    });
    const packs = await discoverPacks([path.join(tmp.path, 'a'), path.join(tmp.path, 'b')]);
    expect(packs[0]?.errors).toEqual([]);
    expect(packs[1]?.errors).toEqual([
      { file: 'tools2/pack.yaml', line: 2, column: 1, field: 'name', message: `pack 'tools' is already loaded from ${path.join(tmp.path, 'a/tools')}` },
    ]);
  });
});
