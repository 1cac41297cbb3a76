/** `reflex run ACTION key=value…` and `reflex execution list|get|tail|cancel|re-run`. */
import type { Command } from 'commander';
import { EXECUTION_STATUSES, isTerminal, type Execution, type ExecutionStatus, type JsonValue } from '@reflex/model';
import { parseAssignments } from '../args.ts';
import type { CliContext } from '../context.ts';
import { duration, shortTime, statusColour, UsageError } from '../output.ts';
import { act, type Session } from '../session.ts';

function took(e: Execution): string {
  if (e.startedAt === undefined) return '';
  const end = e.finishedAt === undefined ? Date.now() : Date.parse(e.finishedAt);
  return duration(end - Date.parse(e.startedAt));
}

/** Prints output as it happens (people) and returns the final status and how many lines were shown. */
async function follow(s: Session, id: string, after = 0): Promise<{ status: ExecutionStatus; lines: number }> {
  let lines = 0;
  for await (const item of s.client.executions.follow(id, { after })) {
    if (item.kind === 'end') return { status: item.status, lines };
    if (s.json) continue;
    lines++;
    s.out.raw(`${item.text}\n`, item.stream === 'stderr');
  }
  return { status: (await s.client.executions.get(id)).status, lines };
}

function isObject(value: JsonValue | undefined): value is Record<string, JsonValue> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The end of a run: the result for people (without the output just shown), or the execution as JSON. */
function printOutcome(s: Session, execution: Execution, streamed: number): void {
  s.ctx.exitCode = execution.status === 'succeeded' ? 0 : 1;
  if (s.json) return s.out.data(execution);
  const colour = statusColour(execution.status);
  s.out.note(`${s.out.paint(execution.status, colour)} ${execution.action} ${execution.id}${took(execution) === '' ? '' : ` in ${took(execution)}`}`);
  if (execution.error !== undefined) s.out.note(`${execution.error.code}: ${execution.error.message}`, 'red');
  let result = execution.result;
  if (streamed > 0 && isObject(result)) {
    const { stdout: _o, stderr: _e, ...rest } = result;
    result = rest;
  }
  if (result !== undefined) s.out.yaml(result);
}

async function waitAndPrint(s: Session, execution: Execution): Promise<void> {
  let streamed = 0;
  if (!isTerminal(execution.status)) streamed = (await follow(s, execution.id)).lines;
  printOutcome(s, await s.client.executions.get(execution.id), streamed);
}

function started(s: Session, execution: Execution): void {
  if (s.json) return s.out.data(execution);
  s.out.line(execution.id);
  s.out.note(`requested ${execution.action}; follow it with: reflex execution tail ${execution.id}`, 'dim');
}

export function executionCommands(program: Command, ctx: CliContext): void {
  program
    .command('run')
    .description('run an action: wait, showing its output, and print the result (exit code 1 unless it succeeded)')
    .argument('<action>', 'an action ref (core.local, linux.restart_service)')
    .argument('[parameters...]', 'name=value; string parameters take the text as typed, others JSON (3, true, ["a"])')
    .option('--async', 'print the execution id and return at once')
    .action(
      act(ctx, async (s: Session, action: string, parameters: string[], opts: { async?: boolean }) => {
        const schema = parameters.length === 0 ? undefined : (await s.client.actions.get(action)).parametersSchema;
        const execution = await s.client.executions.run(action, parseAssignments(parameters, 'parameter', schema));
        if (opts.async === true) return started(s, execution);
        if (!s.json) s.out.note(`${execution.action} ${execution.id}`, 'dim');
        await waitAndPrint(s, execution);
      }),
    );

  const exec = program.command('execution').description('executions: list, show, follow, cancel, run again');

  exec
    .command('list')
    .description('executions, newest first')
    .option('--action <ref>')
    .option('--status <status>', EXECUTION_STATUSES.join(', '))
    .option('--rule <ref>')
    .option('--event <id>')
    .option('-n, --limit <n>', 'how many', '20')
    .action(
      act(ctx, async (s: Session, opts: { action?: string; status?: string; rule?: string; event?: string; limit: string }) => {
        if (opts.status !== undefined && !(EXECUTION_STATUSES as readonly string[]).includes(opts.status)) {
          throw new UsageError(`--status must be one of ${EXECUTION_STATUSES.join(', ')}`);
        }
        const limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new UsageError('--limit must be 1-1000');
        const page = await s.client.executions.list({
          ...(opts.action === undefined ? {} : { action: opts.action }),
          ...(opts.status === undefined ? {} : { status: opts.status as ExecutionStatus }),
          ...(opts.rule === undefined ? {} : { rule: opts.rule }),
          ...(opts.event === undefined ? {} : { event: opts.event }),
          limit,
        });
        if (s.json) return s.out.data(page);
        s.out.table(page.items, [
          { header: 'ID', value: (e) => e.id },
          { header: 'ACTION', value: (e) => e.action },
          { header: 'STATUS', value: (e) => e.status, colour: (e) => statusColour(e.status) },
          { header: 'RULE', value: (e) => e.rule ?? '(manual)' },
          { header: 'CREATED', value: (e) => shortTime(e.createdAt) },
          { header: 'TOOK', value: took },
        ]);
        if (page.nextCursor !== null) s.out.note(`more: raise --limit (at most 1000)`, 'dim');
      }),
    );

  exec
    .command('get')
    .description('one execution, with its parameters (secrets masked), result and history')
    .argument('<id>')
    .action(
      act(ctx, async (s: Session, id: string) => {
        const execution = await s.client.executions.get(id);
        if (s.json) s.out.data(execution);
        else s.out.yaml(execution);
      }),
    );

  exec
    .command('tail')
    .description('follow an execution’s output until it ends (exit code 1 unless it succeeded)')
    .argument('<id>')
    .option('--after <seq>', 'start after this output line number', '0')
    .action(
      act(ctx, async (s: Session, id: string, opts: { after: string }) => {
        const after = Number(opts.after);
        if (!Number.isInteger(after) || after < 0) throw new UsageError('--after must be a line number (0 or more)');
        const { lines } = await follow(s, id, after);
        printOutcome(s, await s.client.executions.get(id), lines);
      }),
    );

  exec
    .command('cancel')
    .description('cancel: a waiting execution at once, a running one with SIGTERM')
    .argument('<id>')
    .action(
      act(ctx, async (s: Session, id: string) => {
        const execution = await s.client.executions.cancel(id);
        if (s.json) return s.out.data(execution);
        s.out.line(`${execution.id} ${s.out.paint(execution.status, statusColour(execution.status))}`);
      }),
    );

  exec
    .command('re-run')
    .description('run an execution again with the same parameters (name=value replaces one); waits like run')
    .argument('<id>')
    .argument('[parameters...]', 'name=value to replace')
    .option('--async', 'print the new execution id and return at once')
    .action(
      act(ctx, async (s: Session, id: string, parameters: string[], opts: { async?: boolean }) => {
        const schema = parameters.length === 0 ? undefined : (await s.client.actions.get((await s.client.executions.get(id)).action)).parametersSchema;
        const replaced = parseAssignments(parameters, 'parameter', schema);
        const execution = await s.client.executions.rerun(id, Object.keys(replaced).length === 0 ? undefined : replaced);
        if (opts.async === true) return started(s, execution);
        if (!s.json) s.out.note(`${execution.action} ${execution.id} (re-run of ${id})`, 'dim');
        await waitAndPrint(s, execution);
      }),
    );
}
