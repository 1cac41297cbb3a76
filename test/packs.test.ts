/**
 * The pack tests in CI: every pack in packs/ runs its tests/ cases (`reflex pack test`) through the
 * real rules engine, and any failing case, broken case file or pack error fails `npm test`. Once
 * through the library (one result per case, so a failure names its case), once through the real
 * `reflex` bin, as an author runs it.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { testPacks, type PackTestReport } from '@reflex/launcher';

const PACKS = fileURLToPath(new URL('../packs', import.meta.url));
const BIN = fileURLToPath(new URL('../services/launcher/bin/reflex.js', import.meta.url));

/** The pack folders (a folder with a pack.yaml), by name. */
const folders = readdirSync(PACKS)
  .filter((name) => !name.startsWith('.') && statSync(join(PACKS, name)).isDirectory() && existsSync(join(PACKS, name, 'pack.yaml')))
  .sort();

/** What failed, in the report's words, so the test output says it. */
function problems(report: PackTestReport): string[] {
  return report.packs.flatMap((p) => [
    ...p.errors.map((e) => `${e.file}${e.line === undefined ? '' : `:${e.line}`} ${e.field}: ${e.message}`),
    ...p.cases.filter((c) => c.status !== 'passed').flatMap((c) => [`${p.pack}/${c.case}: ${c.status}`, ...c.failures.map((f) => `  ${f.message}`), ...(c.errors ?? []).map((e) => `  ${e.file}:${e.line ?? ''} ${e.field}: ${e.message}`)]),
  ]);
}

describe('the tests of every pack in packs/', () => {
  it.each(folders)('%s: every case passes', async (folder) => {
    const report = await testPacks({ paths: [join(PACKS, folder)], packsPaths: [PACKS] });
    expect(problems(report)).toEqual([]);
    expect(report.packs).toHaveLength(1);
    expect(report.exitCode).toBe(0);
  });

  it('runs them all at once, as `reflex pack test` with no path does', async () => {
    const report = await testPacks({ paths: [PACKS], packsPaths: [PACKS] });
    expect(problems(report)).toEqual([]);
    expect(report.packs.map((p) => p.pack).sort()).toEqual(folders);
    // The shipped packs with rules keep their cases (core and chat have no rules: "no tests").
    for (const pack of ['alerting', 'examples', 'github', 'linux']) expect(report.packs.find((p) => p.pack === pack)?.cases.length).toBeGreaterThan(0);
  });

  it('validates every pack through the real `reflex pack validate` bin, exit code 0', async () => {
    const child = spawn(process.execPath, [BIN, 'pack', 'validate', ...folders.map((f) => join(PACKS, f))], {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', () => undefined);
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    for (const folder of folders) expect(stdout).toMatch(new RegExp(`^✓ ${folder} `, 'm'));
    expect(code).toBe(0);
  });

  it('runs through the real `reflex pack test` bin, with its exit code', async () => {
    const child = spawn(process.execPath, [BIN, '--json', 'pack', 'test', join(PACKS, 'alerting')], {
      env: { ...process.env, REFLEX_PACKS_PATH: PACKS, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
    expect(stderr).toBe('');
    const report = JSON.parse(stdout) as PackTestReport;
    expect(problems(report)).toEqual([]);
    expect(report.summary).toMatchObject({ packs: 1, failed: 0, errors: 0 });
    expect(report.summary.passed).toBeGreaterThan(0);
    expect(code).toBe(0);
  });
});
