/**
 * Vitest global setup: gives every test a NATS URL (NATS_URL when set, otherwise a private
 * nats-server started here) and says, in one line, whether the MongoDB suites will run.
 */
import type { TestProject } from 'vitest/node';
import { startNatsServer, type NatsServerHandle } from './support/nats-server.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    natsUrl: string;
    mongodbUrl: string;
  }
}

let server: NatsServerHandle | undefined;

export async function setup(project: TestProject): Promise<void> {
  let natsUrl = process.env['NATS_URL'] ?? '';
  if (natsUrl === '') {
    server = await startNatsServer();
    natsUrl = server.url;
    process.stdout.write(`[reflex tests] started a private nats-server at ${natsUrl}\n`);
  } else {
    process.stdout.write(`[reflex tests] using NATS_URL=${natsUrl}\n`);
  }
  const mongodbUrl = process.env['MONGODB_URL'] ?? '';
  process.stdout.write(
    mongodbUrl === ''
      ? '[reflex tests] MONGODB_URL is not set: the MongoDB store suites are SKIPPED (not passed)\n'
      : `[reflex tests] MongoDB store suites run against MONGODB_URL\n`,
  );
  project.provide('natsUrl', natsUrl);
  project.provide('mongodbUrl', mongodbUrl);
}

export async function teardown(): Promise<void> {
  await server?.stop();
}
