/**
 * @reflex/cli: the `reflex` commands that talk to the API, plus local pack validation and
 * scaffolding. `createProgram` builds the command tree (the launcher adds `start` to it);
 * `runProgram` parses argv and returns the exit code. Everything is written through the context's
 * writers; nothing here reads `process.env` or exits the process. The commands load the rule
 * compiler and the pack loader (`@reflex/rules`, `@reflex/packs`) only when they run, so that
 * `reflex --help` and the API commands start quickly.
 */
import { Command, CommanderError } from 'commander';
import { catalogCommands } from './commands/catalog.ts';
import { eventCommands } from './commands/events.ts';
import { executionCommands } from './commands/executions.ts';
import { keyCommands } from './commands/keys.ts';
import { packCommands } from './commands/packs.ts';
import { ruleCommands } from './commands/rules.ts';
import { sensorCommands } from './commands/sensors.ts';
import { webhookAuthCommands } from './commands/webhook-auth.ts';
import type { CliContext } from './context.ts';

export type { CliContext, CliIO, CliSettings, GlobalOptions, Writer } from './context.ts';
export { ADMIN_KEY_FILE, resolveApiKey, resolveUrl } from './context.ts';
export { scaffoldPack, type ScaffoldFile } from './scaffold.ts';
export type { RuleCheck, RuleTestInput, RuleTestReport } from './rule-test.ts';
export { parseAssignments, parseDuration, parseValue } from './args.ts';

export const VERSION = '0.1.0';

/**
 * The rule test (`testRule`, `draftRule`, `testEvent`), loaded when asked for: it brings the rule
 * compiler and the pack loader, which most commands never need, so this entry does not import it.
 */
export function loadRuleTest(): Promise<typeof import('./rule-test.ts')> {
  return import('./rule-test.ts');
}

/** The command tree; the launcher adds `start` and `pack test`, which run services in this process. */
export function createProgram(ctx: CliContext): Command {
  const program = new Command('reflex')
    .description('Reflex: event-driven automation. Commands other than start talk to the API (REFLEX_URL, default http://127.0.0.1:8180).')
    .version(VERSION)
    .option('--url <url>', 'the API (default: REFLEX_URL, else http://127.0.0.1:<REFLEX_PORT or 8180>)')
    .option('--api-key <key>', 'the API key (default: REFLEX_API_KEY, else <data dir>/admin.key)')
    .option('--json', 'print JSON (errors too, on stderr)')
    .option('--no-color', 'no colours (also NO_COLOR, or when output is not a terminal)')
    .showSuggestionAfterError()
    .configureOutput({
      writeOut: (text) => void ctx.io.stdout.write(text),
      writeErr: (text) => void ctx.io.stderr.write(text),
    });
  packCommands(program, ctx);
  ruleCommands(program, ctx);
  executionCommands(program, ctx);
  eventCommands(program, ctx);
  keyCommands(program, ctx);
  catalogCommands(program, ctx);
  sensorCommands(program, ctx);
  webhookAuthCommands(program, ctx);
  // Every subcommand reports usage errors through our writers and never exits the process itself.
  const quiet = (command: Command): void => {
    command.exitOverride();
    for (const sub of command.commands) quiet(sub);
  };
  quiet(program);
  return program;
}

/** Parses and runs; resolves to the exit code (0 ok, 1 failure, usage errors as commander says). */
export async function runProgram(program: Command, ctx: CliContext, argv: readonly string[]): Promise<number> {
  try {
    await program.parseAsync([...argv]);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    throw err;
  }
  return ctx.exitCode;
}
