import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/**
 * Resolves an `entry_point` the way StackStorm does, relative to its folder in the pack
 * (`actions/`, `sensors/`), and returns it relative to the pack (what the model keeps). It must be
 * a file inside the pack, also after following symlinks.
 */
export async function resolveEntryPoint(packDir: string, folder: string, entryPoint: string): Promise<{ path: string } | { error: string }> {
  if (entryPoint.trim() === '' || entryPoint.includes('\0')) return { error: 'must be a file path' };
  if (path.isAbsolute(entryPoint) || path.win32.isAbsolute(entryPoint)) {
    return { error: `must be relative to the ${folder}/ folder, not absolute` };
  }
  const target = path.resolve(packDir, folder, entryPoint);
  const relative = path.relative(packDir, target);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) return { error: 'escapes the pack folder' };
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    return { error: `does not exist (looked for ${folder}/${entryPoint.split(path.sep).join('/')})` };
  }
  const realRelative = path.relative(await realpath(packDir), real);
  if (realRelative.startsWith('..') || path.isAbsolute(realRelative)) {
    return { error: 'is a symlink that leads outside the pack folder' };
  }
  if (!(await stat(real)).isFile()) return { error: 'is not a file' };
  return { path: relative.split(path.sep).join('/') };
}
