/**
 * `reflex rule list|get|enable|disable|apply|delete|test|backtest`. `apply` and `test` load the rule
 * test (and with it the rule compiler and the pack loader) when they run.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { ApiError, type ReflexClient } from '@reflex/api-client';
import { kvScopeOfPack, type Action, type JsonObject, type KvContext, type ReflexEvent, type Rule } from '@reflex/model';
import { readDocument } from '../args.ts';
import type { CliContext } from '../context.ts';
import { cell, UsageError } from '../output.ts';
import type { RuleTestReport } from '../rule-test.ts';
import { ruleBacktestCommand } from './rule-backtest.ts';
import { act, type Session } from '../session.ts';

const looksLikeFile = (arg: string): boolean => /\.(ya?ml|json)$/i.test(arg) || arg.includes('/');

async function orNull<T>(call: Promise<T>): Promise<T | null> {
  try {
    return await call;
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

/** The datastore keys a rule's templates read, fetched (secrets masked unless `decrypt`). Absent keys stay absent. */
async function kvFor(client: ReflexClient, rule: Rule, decrypt: boolean): Promise<KvContext | undefined> {
  const { compileRule } = await import('@reflex/rules');
  let refs: { system: readonly string[]; pack: readonly string[] };
  try {
    refs = compileRule(rule).kv;
  } catch {
    return undefined; // the report shows why it does not compile
  }
  if (refs.system.length === 0 && refs.pack.length === 0) return undefined;
  const kv: KvContext = { system: {}, pack: {} };
  const load = async (scope: string, name: string, into: JsonObject): Promise<void> => {
    const entry = await orNull(client.keys.get(scope, name, { decrypt }));
    if (entry !== null) into[name] = entry.value;
  };
  await Promise.all([
    ...refs.system.map((name) => load('system', name, kv.system)),
    ...refs.pack.map((name) => load(kvScopeOfPack(rule.pack), name, kv.pack)),
  ]);
  return kv;
}

function printReport(s: Session, report: RuleTestReport): void {
  const verdict = report.fires ? s.out.paint('fires', 'green') : s.out.paint('does not fire', 'red');
  s.out.line(`${s.out.paint(report.rule, 'bold')} ${verdict} on event ${report.event.id} (${report.event.type})`);
  for (const check of report.checks) {
    s.out.line(`  ${check.ok ? s.out.paint('✓', 'green') : s.out.paint('✗', 'red')} ${check.check.padEnd(19)} ${check.message}`);
    for (const d of check.details ?? []) s.out.line(`      ${d.field}: ${d.message}`);
  }
  if (report.criteria.length > 0) {
    s.out.line('criteria:');
    for (const c of report.criteria) {
      const values = Object.entries(c.values)
        .map(([path, value]) => `${path} = ${cell(value)}`)
        .join(', ');
      s.out.line(`  ${c.matched ? s.out.paint('✓', 'green') : s.out.paint('✗', 'red')} ${c.field}: ${JSON.stringify(c.criteria)}${values === '' ? '' : s.out.paint(`   (${values})`, 'dim')}`);
      if (c.error !== undefined) s.out.line(`      ${c.error.message}`);
    }
  }
  if (report.parameters !== undefined) {
    s.out.line('parameters:');
    for (const [name, value] of Object.entries(report.parameters)) s.out.line(`  ${name}: ${cell(value)}`);
  }
}

export function ruleCommands(program: Command, ctx: CliContext): void {
  const rule = program.command('rule').description('rules: list, show, switch on and off, test against an event');

  rule
    .command('list')
    .description('rules, by ref')
    .option('--pack <pack>', 'only this pack’s')
    .option('--trigger <type>', 'only rules on this trigger type')
    .option('--enabled', 'only enabled rules')
    .option('--disabled', 'only disabled rules')
    .action(
      act(ctx, async (s: Session, opts: { pack?: string; trigger?: string; enabled?: boolean; disabled?: boolean }) => {
        if (opts.enabled === true && opts.disabled === true) throw new UsageError('--enabled and --disabled exclude each other');
        const enabled = opts.enabled === true ? true : opts.disabled === true ? false : undefined;
        const { items } = await s.client.rules.list({
          ...(opts.pack === undefined ? {} : { pack: opts.pack }),
          ...(opts.trigger === undefined ? {} : { triggerType: opts.trigger }),
          ...(enabled === undefined ? {} : { enabled }),
        });
        if (s.json) return s.out.data(items);
        s.out.table(items, [
          { header: 'REF', value: (r) => r.ref },
          { header: 'ENABLED', value: (r) => (r.enabled ? 'yes' : 'no'), colour: (r) => (r.enabled ? 'green' : 'dim') },
          { header: 'TRIGGER', value: (r) => `${r.trigger.type}${r.trigger.parameters === undefined ? '' : ` ${JSON.stringify(r.trigger.parameters)}`}` },
          { header: 'ACTION', value: (r) => r.action.ref },
          { header: 'SOURCE', value: (r) => r.source },
        ]);
      }),
    );

  rule
    .command('get')
    .description('one rule')
    .argument('<ref>')
    .action(
      act(ctx, async (s: Session, ref: string) => {
        const found = await s.client.rules.get(ref);
        if (s.json) s.out.data(found);
        else s.out.yaml(found);
      }),
    );

  for (const enabled of [true, false]) {
    rule
      .command(enabled ? 'enable' : 'disable')
      .description(`${enabled ? 'switch a rule on' : 'switch a rule off'} (a pack rule stays a pack rule; registering the pack again resets it)`)
      .argument('<ref>')
      .action(
        act(ctx, async (s: Session, ref: string) => {
          const updated = await s.client.rules.setEnabled(ref, enabled);
          if (s.json) return s.out.data(updated);
          s.out.line(`${updated.ref} ${s.out.paint(enabled ? 'enabled' : 'disabled', enabled ? 'green' : 'yellow')}`);
        }),
      );
  }

  rule
    .command('apply')
    .description('create or replace a rule from a JSON or YAML file (the API’s rule: pack, name, trigger, criteria, action)')
    .argument('<file>')
    .option('--pack <pack>', 'the pack, when the file does not say')
    .action(
      act(ctx, async (s: Session, file: string, opts: { pack?: string }) => {
        const { draftRule, ruleInputOf } = await import('../rule-test.ts');
        const draft = draftRule(await readDocument(file, s.ctx.settings.cwd), opts.pack);
        const input = ruleInputOf(draft);
        const saved = await s.client.rules.put(draft.ref, input);
        if (s.json) return s.out.data(saved);
        s.out.line(`${saved.ref} ${saved.createdAt === saved.updatedAt ? 'created' : 'replaced'}`);
      }),
    );

  rule
    .command('delete')
    .description('delete a rule created through the API (pack rules go with their pack)')
    .argument('<ref>')
    .action(
      act(ctx, async (s: Session, ref: string) => {
        await s.client.rules.delete(ref);
        if (s.json) return s.out.data({ deleted: ref });
        s.out.line(`${ref} deleted`);
      }),
    );

  rule
    .command('test')
    .description('would RULE fire on an event, with what parameters, and if not, why not (nothing runs). RULE is a ref, or a draft rule file')
    .argument('<rule>', 'a rule ref (demo.disk_alert), or a JSON/YAML rule file')
    .option('--event <file>', 'the event: { type?, payload, triggerParameters? } in JSON or YAML, or just the payload')
    .option('--event-id <id>', 'a stored event instead of a file')
    .option('--pack <pack>', 'the pack of a draft rule file that does not say')
    .option('--decrypt', 'render datastore secrets instead of ******** (needs keys:decrypt)')
    .action(
      act(ctx, async (s: Session, ruleArg: string, opts: { event?: string; eventId?: string; pack?: string; decrypt?: boolean }) => {
        if ((opts.event === undefined) === (opts.eventId === undefined)) throw new UsageError('give the event as --event FILE or --event-id ID');
        const { draftRule, testEvent, testRule } = await import('../rule-test.ts');
        const cwd = s.ctx.settings.cwd;
        const isFile = existsSync(resolve(cwd, ruleArg)) || looksLikeFile(ruleArg);
        const target: Rule = isFile ? draftRule(await readDocument(ruleArg, cwd), opts.pack) : await s.client.rules.get(ruleArg);
        const event: ReflexEvent =
          opts.eventId !== undefined ? await s.client.events.get(opts.eventId) : testEvent(await readDocument(opts.event ?? '', cwd), target);
        const action: Action | null = await orNull(s.client.actions.get(target.action.ref));
        const kv = await kvFor(s.client, target, opts.decrypt === true);
        const report = testRule({ rule: target, event, action: action ?? undefined, ...(kv === undefined ? {} : { kv }) });
        if (!report.fires) s.ctx.exitCode = 1;
        if (s.json) return s.out.data(report);
        printReport(s, report);
      }),
    );

  ruleBacktestCommand(rule, ctx);
}
