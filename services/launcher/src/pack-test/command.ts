/**
 * `reflex pack test [PATH...]`: the cases in each pack's tests/ folder, run through the real rules
 * engine in this process (no running Reflex needed). Exit code 0 when every case passed, 1 when one
 * failed, 2 when a case file or a pack has errors or a case could not run.
 */
import { resolve } from 'node:path';
import type { CliContext, GlobalOptions } from '@reflex/cli';
import { packLines, painter, summaryLine } from './report.ts';
import { PackPathError, testPacks } from './run.ts';

export async function packTestCommand(ctx: CliContext, paths: readonly string[], options: GlobalOptions, packsPaths: readonly string[]): Promise<void> {
  const { stdout, stderr } = ctx.io;
  const json = options.json === true;
  const colour = options.color !== false && !ctx.settings.noColor;
  const paint = painter(colour && stdout.isTTY === true);
  const fail = (code: string, message: string): void => {
    if (json) stderr.write(`${JSON.stringify({ error: { code, message, details: [] } })}\n`);
    else stderr.write(`${painter(colour && stderr.isTTY === true)('reflex:', 'red')} ${message}\n`);
    ctx.exitCode = 2;
  };
  const cwd = ctx.settings.cwd;
  const targets = paths.length === 0 ? [...packsPaths] : paths.map((p) => resolve(cwd, p));
  try {
    const report = await testPacks({
      paths: targets,
      packsPaths: [...packsPaths],
      ...(json ? {} : { onPack: (result) => void stdout.write(`${packLines(result, paint, cwd).join('\n')}\n`) }),
    });
    if (report.packs.length === 0) {
      fail('NO_PACK', `no pack found in ${(paths.length === 0 ? targets : paths).join(', ')} (a pack folder has a pack.yaml)`);
      return;
    }
    if (json) stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else stdout.write(`\n${summaryLine(report.summary, paint)}\n`);
    ctx.exitCode = report.exitCode;
  } catch (err) {
    if (!(err instanceof PackPathError)) throw err;
    fail(err.code, err.message);
  }
}
