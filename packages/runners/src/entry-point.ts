import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { NonRetriableError, type ExecutionRequest } from '@reflex/model';

/**
 * The file an action's `entryPoint` names (relative to its pack, as the loader stores it),
 * checked again here because the request came off the bus: it must be a file inside `packDir`,
 * symlinks resolved. Returns its real absolute path and the pack's real directory.
 */
export async function resolveEntryPoint(request: ExecutionRequest, packDir: string | undefined, runner: string): Promise<{ file: string; packDir: string }> {
  if (packDir === undefined) {
    throw new NonRetriableError(`the ${runner} runner needs the pack's directory (RunContext.packDir) to find ${request.action}'s entry point`, { code: 'PACK_DIR_UNKNOWN' });
  }
  const entryPoint = request.entryPoint;
  if (entryPoint === undefined || entryPoint.trim() === '') {
    throw new NonRetriableError(`${request.action} has no entry_point; the ${runner} runner needs one`, { code: 'ENTRY_POINT_INVALID' });
  }
  const invalid = (why: string, cause?: unknown): NonRetriableError =>
    new NonRetriableError(`entry point '${entryPoint}' of ${request.action} ${why}`, { code: 'ENTRY_POINT_INVALID', cause });
  if (entryPoint.includes('\0') || path.isAbsolute(entryPoint)) throw invalid('must be a path relative to its pack');

  let root: string;
  try {
    root = await realpath(packDir);
  } catch (err) {
    throw new NonRetriableError(`pack directory '${packDir}' of ${request.action} cannot be read: ${(err as Error).message}`, { code: 'PACK_DIR_UNKNOWN', cause: err });
  }
  const inside = (p: string): boolean => {
    const rel = path.relative(root, p);
    return rel !== '' && !rel.startsWith(`..${path.sep}`) && rel !== '..' && !path.isAbsolute(rel);
  };
  if (!inside(path.resolve(root, entryPoint))) throw invalid('is outside its pack');
  let file: string;
  try {
    file = await realpath(path.resolve(root, entryPoint));
  } catch (err) {
    throw invalid('does not exist', err);
  }
  if (!inside(file)) throw invalid('leads outside its pack (symlink)');
  if (!(await stat(file)).isFile()) throw invalid('is not a file');
  return { file, packDir: root };
}
