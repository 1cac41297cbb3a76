/**
 * `reflex start [service...]`: read the config, make the root logger, launch, stop on SIGTERM/SIGINT.
 */
import { pino } from 'pino';
import { loadConfig } from '@reflex/runtime';
import { launch, SERVICE_NAMES, type ServiceName } from './launch.ts';

export async function startCommand(requested: string[]): Promise<void> {
  const unknown = requested.filter((s) => !(SERVICE_NAMES as readonly string[]).includes(s));
  if (unknown.length > 0) {
    process.stderr.write(`reflex: unknown service(s) ${unknown.join(', ')}; known: ${SERVICE_NAMES.join(', ')}\n`);
    process.exitCode = 2;
    return;
  }
  const config = loadConfig(process.env);
  const logger = pino({ level: config.logLevel, base: { app: 'reflex' } });
  const services = requested.length === 0 ? SERVICE_NAMES : (requested as ServiceName[]);
  const launched = await launch(config, services, logger, { env: process.env, consoleSink: process.stdout });
  let stopping = false;
  const shutdown = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    launched.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}
