/**
 * The report of `reflex pack test` for people: per pack, ✓ or ✗ per case with what differed, case
 * files and packs with errors as file:line, and a summary line. Colours only when asked (a terminal).
 */
import path from 'node:path';
import type { PackFileError } from '@reflex/packs';
import type { PackTestReport, PackTestResult, PackTestSummary } from './run.ts';

const CODES = { bold: [1, 22], dim: [2, 22], red: [31, 39], green: [32, 39], yellow: [33, 39] } as const;
type Colour = keyof typeof CODES;

export type Paint = (text: string, colour: Colour) => string;

export function painter(colour: boolean): Paint {
  return (text, c) => (colour ? `\u001b[${CODES[c][0]}m${text}\u001b[${CODES[c][1]}m` : text);
}

/** `alerting/tests/bad.yaml:3 expect.fire.0: must match pattern …` — the line an author jumps to. */
export function errorLine(error: PackFileError): string {
  const where = error.line === undefined ? error.file : `${error.file}:${error.line}`;
  return `${where}${error.field === '' ? '' : ` ${error.field}`}: ${error.message}`;
}

function plural(n: number, one: string): string {
  return `${n} ${one}${n === 1 ? '' : 's'}`;
}

/** The lines of one pack's result. */
export function packLines(result: PackTestResult, paint: Paint, cwd: string): string[] {
  const name = result.pack ?? (path.relative(cwd, result.dir) || result.dir);
  if (result.status === 'no_tests') return [`${paint('-', 'dim')} ${paint(name, 'bold')}: ${result.note ?? 'no tests'}`];
  const lines = [paint(name, 'bold')];
  for (const e of result.errors) lines.push(`  ${paint('!', 'red')} ${errorLine(e)}`);
  for (const c of result.cases) {
    const title = `${c.case}${c.description === undefined ? '' : paint(` — ${c.description}`, 'dim')}`;
    if (c.status === 'passed') {
      lines.push(`  ${paint('✓', 'green')} ${title}`);
      continue;
    }
    lines.push(`  ${paint('✗', 'red')} ${title}`);
    for (const e of c.errors ?? []) lines.push(`      ${errorLine(e)}`);
    for (const f of c.failures) lines.push(`      ${f.message}`);
  }
  return lines;
}

export function summaryLine(summary: PackTestSummary, paint: Paint): string {
  const parts = [paint(`${summary.passed} passed`, summary.passed > 0 ? 'green' : 'dim')];
  if (summary.failed > 0) parts.push(paint(`${summary.failed} failed`, 'red'));
  if (summary.errors > 0) parts.push(paint(plural(summary.errors, 'error'), 'red'));
  return `${parts.join(', ')} (${plural(summary.packs, 'pack')})`;
}

/** The whole report as text (the command prints each pack as it finishes, then the summary). */
export function reportText(report: PackTestReport, paint: Paint, cwd: string): string {
  const lines = report.packs.flatMap((p) => packLines(p, paint, cwd));
  lines.push('', summaryLine(report.summary, paint));
  return `${lines.join('\n')}\n`;
}
