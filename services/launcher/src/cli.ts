/**
 * The `reflex` command line: `reflex start [services...]` runs Reflex; every other command
 * (@reflex/cli) talks to a running API. This is the one place that reads the environment for them.
 * `start` loads the services only when it runs, so client commands start quickly.
 */
import { resolve } from 'node:path';
import { createProgram, runProgram, type CliContext, type CliSettings, type GlobalOptions } from '@reflex/cli';
import { CLIENT_ENV, configSchema, ENV } from '@reflex/config';

type Program = ReturnType<typeof createProgram>;

/** What the client commands need from the environment: the API's address and key, the data dir, NO_COLOR. */
export function cliSettings(env: Record<string, string | undefined>, cwd: string): CliSettings {
  const set = (name: string): string | undefined => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const port = set(ENV.port) ?? String(configSchema.properties.port.default);
  const url = set(CLIENT_ENV.url);
  const apiKey = set(CLIENT_ENV.apiKey);
  return {
    ...(url === undefined ? {} : { url }),
    ...(apiKey === undefined ? {} : { apiKey }),
    defaultUrl: `http://127.0.0.1:${port}`,
    dataDir: resolve(cwd, set(ENV.dataDir) ?? configSchema.properties.dataDir.default),
    searchParents: set(ENV.dataDir) === undefined,
    noColor: set(CLIENT_ENV.noColor) !== undefined,
    cwd,
  };
}

/** REFLEX_PACKS_PATH (colon-separated, default ./packs), as absolute folders. */
export function packsPathsOf(env: Record<string, string | undefined>, cwd: string): string[] {
  const given = (env[ENV.packsPath] ?? '').split(':').filter((p) => p !== '');
  return (given.length > 0 ? given : configSchema.properties.packsPaths.default).map((p) => resolve(cwd, p));
}

export function buildCli(ctx: CliContext, env: Record<string, string | undefined> = {}): Program {
  const program = createProgram(ctx);
  program
    .command('start')
    .description('start services in this process (all of them when none is named): api, sensors, rules-engine, action-runner, chat-notifier')
    .argument('[services...]', 'services to start')
    .exitOverride()
    .action(async (services: string[]) => {
      const { startCommand } = await import('./main.ts');
      await startCommand(services);
    });
  // `pack test` runs the rules engine in this process, so it lives here with `start`, loaded only when it runs.
  program.commands
    .find((c) => c.name() === 'pack')
    ?.command('test')
    .description('run the cases in each pack’s tests/ folder through the real rules engine, offline (no action runs); every pack under REFLEX_PACKS_PATH unless named')
    .argument('[paths...]', 'pack folders, or folders holding packs')
    .exitOverride()
    .action(async (paths: string[], _options: unknown, command: Program) => {
      const { packTestCommand } = await import('./pack-test/command.ts');
      await packTestCommand(ctx, paths, command.optsWithGlobals<GlobalOptions>(), packsPathsOf(env, ctx.settings.cwd));
    });
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  const ctx: CliContext = {
    io: {
      stdout: process.stdout,
      stderr: process.stderr,
      // Touched only by a command that reads its input (`key set NAME -`).
      get stdin() {
        return process.stdin;
      },
    },
    settings: cliSettings(process.env, process.cwd()),
    exitCode: 0,
  };
  const code = await runProgram(buildCli(ctx, process.env), ctx, argv);
  if (code !== 0) process.exitCode = code;
}
