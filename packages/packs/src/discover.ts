import { readdir, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { loadPack } from './load.ts';
import type { LoadedPack, PackFileError } from './types.ts';
import { fileError } from './yaml-source.ts';

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return false;
    throw new Error(`cannot read ${p}`, { cause: err });
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/** The pack folders of one base path: the base itself when it holds a pack.yaml, else its sub-folders that do. */
async function packDirs(basePath: string): Promise<string[]> {
  const base = path.resolve(basePath);
  if (!(await isDirectory(base))) return [];
  if (await isFile(path.join(base, 'pack.yaml'))) return [base];
  const entries = await readdir(base, { withFileTypes: true });
  const dirs: string[] = [];
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (entry.name.startsWith('.') || !(entry.isDirectory() || entry.isSymbolicLink())) continue;
    const dir = path.join(base, entry.name);
    if ((await isDirectory(dir)) && (await isFile(path.join(dir, 'pack.yaml')))) dirs.push(dir);
  }
  return dirs;
}

/**
 * Finds and loads the packs under each base path (StackStorm's `packs_base_paths`), in order. A
 * missing base path has no packs. A folder reached twice is loaded once. When two folders hold
 * a pack of the same name, the later one gets an error (the first one wins).
 */
export async function discoverPacks(basePaths: string[]): Promise<LoadedPack[]> {
  const seen = new Set<string>();
  const dirs: string[] = [];
  for (const basePath of basePaths) {
    for (const dir of await packDirs(basePath)) {
      const real = await realpath(dir);
      if (seen.has(real)) continue;
      seen.add(real);
      dirs.push(dir);
    }
  }
  const loaded = await Promise.all(dirs.map((dir) => loadPack(dir)));
  markDuplicateNames(loaded);
  return loaded;
}

/** The error of a pack whose name an earlier pack (loaded from `earlierDir`) already has. */
export function duplicatePackError(pack: LoadedPack, name: string, earlierDir: string): PackFileError {
  const message = `pack '${name}' is already loaded from ${earlierDir}`;
  const source = pack.sources.manifest;
  if (source !== null) return fileError(source, 'name', message);
  return { file: `${path.basename(pack.dir)}/pack.yaml`, field: 'name', message };
}

/** Adds an error to every pack whose name an earlier pack of the list already has. */
export function markDuplicateNames(loaded: LoadedPack[], errorsOf: (pack: LoadedPack) => PackFileError[] = (p) => p.errors): void {
  const first = new Map<string, string>();
  for (const pack of loaded) {
    const name = pack.manifest?.name;
    if (name === undefined) continue;
    const earlier = first.get(name);
    if (earlier === undefined) {
      first.set(name, pack.dir);
      continue;
    }
    const error = duplicatePackError(pack, name, earlier);
    const errors = errorsOf(pack);
    if (!errors.some((e) => e.field === error.field && e.message === error.message)) errors.push(error);
  }
}
