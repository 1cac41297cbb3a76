/** Temp folders of pack files, for the tests of this package. */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach } from 'vitest';
import type { PackFileError } from './types.ts';

export interface TempDir extends AsyncDisposable {
  path: string;
  /** Writes `files` (relative path → content; leading newline and common indent are trimmed). */
  write(files: Record<string, string>): Promise<void>;
}

/** Removes the common leading indentation, so YAML can sit indented in a test. */
export function dedent(text: string): string {
  const lines = text.replace(/^\n/, '').split('\n');
  const indents = lines.filter((l) => l.trim() !== '').map((l) => /^ */.exec(l)?.[0].length ?? 0);
  const cut = Math.min(...indents);
  return lines.map((l) => l.slice(cut)).join('\n');
}

export async function tempDir(): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), `reflex-packs-test-`));
  return {
    path: dir,
    async write(files) {
      for (const [rel, content] of Object.entries(files)) {
        const abs = path.join(dir, rel);
        await mkdir(path.dirname(abs), { recursive: true });
        await writeFile(abs, dedent(content));
      }
    },
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Errors as `file:line field: message` lines, sorted: what a test compares. */
export function errorLines(errors: PackFileError[]): string[] {
  return errors.map((e) => `${e.file}:${e.line ?? '?'} ${e.field}: ${e.message}`).sort();
}

/** A fresh temp folder for each test of the calling file (made before it, removed after it). */
export function useTempDir(): Pick<TempDir, 'path' | 'write'> {
  let current: TempDir | undefined;
  beforeEach(async () => {
    current = await tempDir();
  });
  afterEach(async () => {
    await current?.[Symbol.asyncDispose]();
    current = undefined;
  });
  const now = (): TempDir => {
    if (current === undefined) throw new Error('useTempDir: the folder exists only while a test runs');
    return current;
  };
  return {
    get path() {
      return now().path;
    },
    write: (files) => now().write(files),
  };
}
