/** Requests, contexts and temp packs for the tests of this package. */
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ExecutionRequest, JsonObject } from '@reflex/model';
import type { OutputStream, RunContext } from './runner.ts';

/** The real examples pack: the runner tests use its files as they ship. */
export const EXAMPLES_PACK = fileURLToPath(new URL('../../../packs/examples', import.meta.url));

export function request(runner: string, parameters: JsonObject, fields: Partial<ExecutionRequest> = {}): ExecutionRequest {
  return {
    executionId: 'ex-test-1',
    action: `test.${runner}`,
    runner,
    pack: 'test',
    parameters,
    traceId: 'trace-test-1',
    ...fields,
  };
}

export interface TestContext extends RunContext {
  lines: Array<[OutputStream, string]>;
}

/** A context that records every output line; short grace so kill escalation tests are quick. */
export function context(fields: Partial<RunContext> = {}): TestContext {
  const lines: Array<[OutputStream, string]> = [];
  return {
    signal: new AbortController().signal,
    onOutput: (stream, line) => lines.push([stream, line]),
    limits: { killGraceMs: 300 },
    lines,
    ...fields,
  };
}

export interface TempDir extends AsyncDisposable {
  path: string;
  /** Writes `files` (relative path → content); paths ending in `.sh` are made executable. */
  write(files: Record<string, string>): Promise<void>;
}

export async function tempDir(prefix = 'reflex-runners-test-'): Promise<TempDir> {
  const dir = await mkdtemp(path.join(tmpdir(), prefix));
  return {
    path: dir,
    async write(files) {
      for (const [rel, content] of Object.entries(files)) {
        const abs = path.join(dir, rel);
        await mkdir(path.dirname(abs), { recursive: true });
        await writeFile(abs, content);
        if (rel.endsWith('.sh')) await chmod(abs, 0o755);
      }
    },
    async [Symbol.asyncDispose]() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Splits NUL-separated output (`printf '%s\0' "$@"`, `env -0`). */
export function nulSeparated(text: string): string[] {
  const parts = text.split('\0');
  if (parts.at(-1) === '') parts.pop();
  return parts;
}

/** Whether a process is gone (or only a zombie waiting to be reaped). */
export async function isGone(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch {
    return true;
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  return stat === '' || / Z /.test(stat.slice(stat.lastIndexOf(')')));
}

/** Waits until `check` holds or `ms` pass. */
export async function eventually(check: () => Promise<boolean> | boolean, ms = 3000): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((r) => setTimeout(r, 25));
  }
  return check();
}
