/** The `reflex` command line. */
import { Command } from 'commander';
import { startCommand } from './main.ts';

export function buildCli(): Command {
  const program = new Command('reflex').description('Reflex: event-driven automation').version('0.1.0');
  program
    .command('start')
    .description('start services in this process (all of them when none is named): api, sensors, rules-engine, action-runner, chat-notifier')
    .argument('[services...]', 'services to start')
    .action(async (services: string[]) => {
      await startCommand(services);
    });
  return program;
}

export async function runCli(argv: string[]): Promise<void> {
  await buildCli().parseAsync(argv);
}
