/** `reflex rule backtest RULE|--file draft.yaml --since 24h`: what a rule would have done about stored events. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { BACKTEST_MAX_ENTRIES, BACKTEST_MAX_EVENTS, BACKTEST_SHOW, type BacktestEntry, type BacktestReport, type BacktestRequest, type BacktestShow, type RuleInput } from '@reflex/model';
import { parseDuration, readDocument } from '../args.ts';
import type { CliContext } from '../context.ts';
import { cell, shortTime, statusColour, UsageError, type Colour } from '../output.ts';
import { act, type Session } from '../session.ts';

interface BacktestOptions {
  file?: string;
  pack?: string;
  since: string;
  until?: string;
  limit?: string;
  show?: string;
  entries?: string;
}


function integer(text: string | undefined, flag: string, max: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new UsageError(`${flag} must be a whole number from 1 to ${max}`);
  return n;
}

function outcomeColour(outcome: BacktestEntry['outcome']): Colour | undefined {
  if (outcome === 'no_match') return 'dim';
  return statusColour(outcome);
}

/** `core.echo message=db1 at 97%, …` for a firing; the reason otherwise. */
function detail(entry: BacktestEntry): string {
  if (entry.outcome !== 'fired') return entry.reason;
  const parameters = Object.entries(entry.parameters ?? {})
    .map(([name, value]) => `${name}=${cell(value)}`)
    .join(', ');
  return `${entry.action ?? ''}${parameters === '' ? '' : ` ${parameters}`}`;
}

export function printBacktest(s: Session, report: BacktestReport): void {
  s.out.table(
    report.entries,
    [
      { header: 'TIME', value: (e) => shortTime(e.at) },
      { header: 'EVENT', value: (e) => (e.kind === 'window' ? `${e.eventId} (${e.window?.mode ?? 'window'})` : e.eventId), max: 40 },
      { header: 'OUTCOME', value: (e) => e.outcome, colour: (e) => outcomeColour(e.outcome) },
      { header: 'ACTION / WHY', value: detail, max: 100 },
    ],
    '(no entries)',
  );
  const held = (['failed', 'throttled', 'grouped', 'silenced', 'no_match'] as const)
    .filter((o) => report.counts[o] > 0)
    .map((o) => `${report.counts[o]} ${o.replace('_', ' ')}`);
  const fires = s.out.paint(`would fire ${report.wouldFire}`, report.wouldFire > 0 ? 'green' : undefined);
  s.out.line(
    `${s.out.paint(report.rule, 'bold')}${report.draft ? ' (draft)' : ''} from ${shortTime(report.since)} to ${shortTime(report.until)}: ` +
      `${report.scanned} events scanned, ${report.considered} for its trigger, ${report.matched} matched, ${fires}${held.length === 0 ? '' : ` (${held.join(', ')})`}`,
  );
  if (report.omitted > 0) s.out.note(`${report.omitted} more entries not shown (--entries N, --show, or --json)`, 'dim');
  for (const w of report.pending) s.out.note(`still open: ${w.mode} ${w.key || '(one group)'} would fire at ${shortTime(w.dueAt)}`, 'dim');
  for (const note of report.notes) s.out.note(`note: ${note}`, 'dim');
}

export function ruleBacktestCommand(rule: Command, ctx: CliContext): void {
  rule
    .command('backtest')
    .description('replay stored events against RULE (a ref) or a draft rule file and show what it would have done; nothing runs, nothing is written')
    .argument('[rule]', 'a rule ref (demo.disk_alert), or a JSON/YAML rule file')
    .option('--file <file>', 'a draft rule file (JSON or YAML, like rule apply takes)')
    .option('--pack <pack>', 'the pack of a draft rule file that does not say')
    .option('--since <when>', 'from: a duration back from now (24h, 90m, 7d) or an ISO time', '24h')
    .option('--until <when>', 'to (default now): a duration back from now or an ISO time')
    .option('--limit <n>', 'most events to read (the newest, when there are more; default 10000, at most 50000)')
    .option('--show <which>', `entries to list: ${BACKTEST_SHOW.join(', ')} (default all)`)
    .option('-n, --entries <n>', 'entries to list at most (default 100, at most 1000)')
    .action(
      act(ctx, async (s: Session, ruleArg: string | undefined, opts: BacktestOptions) => {
        const cwd = s.ctx.settings.cwd;
        if ((ruleArg === undefined) === (opts.file === undefined)) throw new UsageError('give the rule as RULE (a ref or a file) or --file FILE');
        if (opts.show !== undefined && !(BACKTEST_SHOW as readonly string[]).includes(opts.show)) throw new UsageError(`--show must be one of ${BACKTEST_SHOW.join(', ')}`);
        const file = opts.file ?? (ruleArg !== undefined && (existsSync(resolve(cwd, ruleArg)) || /\.(ya?ml|json)$/i.test(ruleArg) || ruleArg.includes('/')) ? ruleArg : undefined);
        const request: BacktestRequest = {
          ...(file === undefined ? { rule: ruleArg } : { draft: await draftInput(file, cwd, opts.pack) }),
          since: apiWhen(opts.since, '--since'),
          ...(opts.until === undefined ? {} : { until: apiWhen(opts.until, '--until') }),
        };
        const limit = integer(opts.limit, '--limit', BACKTEST_MAX_EVENTS);
        const entries = integer(opts.entries, '--entries', BACKTEST_MAX_ENTRIES);
        if (limit !== undefined) request.limit = limit;
        if (entries !== undefined) request.maxEntries = entries;
        if (opts.show !== undefined) request.show = opts.show as BacktestShow;
        const report = await s.client.rules.backtest(request);
        if (s.json) return s.out.data(report);
        printBacktest(s, report);
      }),
    );
}

/** A draft rule file as the API takes it; the rule test that reads it (and the pack loader) loads only for a draft. */
async function draftInput(file: string, cwd: string, pack: string | undefined): Promise<RuleInput> {
  const { draftRule, ruleInputOf } = await import('../rule-test.ts');
  return ruleInputOf(draftRule(await readDocument(file, cwd), pack));
}

/** A duration as every other command takes it (`90`, `15m`, `1w`) becomes seconds for the API; an ISO time goes as it is. */
function apiWhen(value: string, what: string): string {
  return /^\d+\s*[smhdw]?$/.test(value.trim()) ? `${parseDuration(value, what)}s` : value;
}
