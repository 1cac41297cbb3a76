/**
 * The `reflex` command line: `reflex start [services...]` runs Reflex; every other command
 * (@reflex/cli) talks to a running API. This is the one place that reads the environment for them.
 * `start` loads the services only when it runs, so client commands start quickly.
 */
import { resolve } from 'node:path';
import { createProgram, runProgram, type CliContext, type CliSettings } from '@reflex/cli';
import { CLIENT_ENV, configSchema, ENV } from '@reflex/runtime';

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

export function buildCli(ctx: CliContext): Program {
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
  const code = await runProgram(buildCli(ctx), ctx, argv);
  if (code !== 0) process.exitCode = code;
}
