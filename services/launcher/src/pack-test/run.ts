/**
 * `reflex pack test` as a library: finds the packs under the given folders, reads each pack's
 * cases, and runs them one by one, each in a Reflex of its own (run-case.ts). Offline: no running
 * Reflex, no server, no action really runs.
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { ReflexError } from '@reflex/model';
import { discoverPacks, loadPackTests, type CaseResult, type LoadedPack, type PackFileError } from '@reflex/packs';
import { registrationErrors, runCase } from './run-case.ts';
import { BUILTIN_PACKS_DIR, PackLibrary } from './resolve.ts';

export interface PackTestResult {
  pack: string | null;
  dir: string;
  /** error: the pack, a pack it needs or a case file has errors (`errors`), or a case could not run. */
  status: 'passed' | 'failed' | 'error' | 'no_tests';
  /** `no tests` when the pack has no tests/ folder or no case in it. */
  note?: string;
  /** Problems with the pack (or a pack it needs) and with case files, each with file:line. */
  errors: PackFileError[];
  cases: CaseResult[];
}

export interface PackTestSummary {
  packs: number;
  passed: number;
  failed: number;
  /** Cases that could not run, plus files with errors (case files, pack files). */
  errors: number;
}

export interface PackTestReport {
  ok: boolean;
  /** 0: every case passed; 1: a case failed; 2: a case file, a pack or a case setup had errors. */
  exitCode: 0 | 1 | 2;
  summary: PackTestSummary;
  packs: PackTestResult[];
}

export interface PackTestOptions {
  /** Pack folders, or folders holding packs. */
  paths: string[];
  /** Where packs the tested ones need are looked for after their siblings (REFLEX_PACKS_PATH). */
  packsPaths: string[];
  /** The packs that ship with Reflex, looked in last. Default: Reflex's own packs/ folder. */
  builtinPacksDir?: string;
  /** Told each pack's result as soon as it is known (for live output). */
  onPack?: (result: PackTestResult) => void;
}

/** A path that does not exist; the command reports it as a usage error (exit 2). */
export class PackPathError extends ReflexError {
  constructor(message: string) {
    super('PACK_PATH_NOT_FOUND', message);
  }
}

async function testPack(pack: LoadedPack, library: PackLibrary): Promise<PackTestResult> {
  const name = pack.manifest?.name ?? null;
  const result: PackTestResult = { pack: name, dir: pack.dir, status: 'passed', errors: [], cases: [] };
  if (pack.errors.length > 0 || name === null) {
    result.errors = pack.errors;
    result.status = 'error';
    return result;
  }
  const tests = await loadPackTests(pack.dir, name);
  result.errors.push(...tests.errors);
  if (tests.cases.length === 0 && tests.errors.length === 0) {
    result.status = 'no_tests';
    result.note = tests.dir === null ? 'no tests (no tests/ folder)' : 'no tests (no tests/*.yaml case)';
    return result;
  }
  const packs = await library.closure(pack);
  const refused = await registrationErrors(packs);
  if (refused.length > 0) {
    result.errors.push(...refused);
    result.status = 'error';
    return result;
  }
  for (const testCase of tests.cases) result.cases.push(await runCase(testCase, { packs }));
  if (result.errors.length > 0 || result.cases.some((c) => c.status === 'error')) result.status = 'error';
  else if (result.cases.some((c) => c.status === 'failed')) result.status = 'failed';
  return result;
}

export async function testPacks(options: PackTestOptions): Promise<PackTestReport> {
  for (const p of options.paths) {
    try {
      await stat(p);
    } catch {
      throw new PackPathError(`${p}: no such folder`);
    }
  }
  const found = await discoverPacks(options.paths.map((p) => path.resolve(p)));
  const library = new PackLibrary([...options.packsPaths, options.builtinPacksDir ?? BUILTIN_PACKS_DIR]);
  const packs: PackTestResult[] = [];
  for (const pack of found) {
    const result = await testPack(pack, library);
    options.onPack?.(result);
    packs.push(result);
  }
  const cases = packs.flatMap((p) => p.cases);
  const summary: PackTestSummary = {
    packs: packs.length,
    passed: cases.filter((c) => c.status === 'passed').length,
    failed: cases.filter((c) => c.status === 'failed').length,
    errors: cases.filter((c) => c.status === 'error').length + packs.reduce((n, p) => n + new Set(p.errors.map((e) => e.file)).size, 0),
  };
  const exitCode = packs.some((p) => p.status === 'error') ? 2 : summary.failed > 0 ? 1 : 0;
  return { ok: exitCode === 0, exitCode, summary, packs };
}
