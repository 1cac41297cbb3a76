/**
 * Starts a set of Reflex services in this process on one bus and one store. `reflex start` with
 * no names starts them all on the embedded defaults; with NATS_URL/MONGODB_URL the same services
 * run distributed, and each can be started on its own (`reflex start rules-engine`).
 */
import type { Logger } from 'pino';
import { startActionRunner } from '@reflex/action-runner';
import { buildApi } from '@reflex/api';
import { kvSealing, openKeyValue } from '@reflex/auth';
import type { Bus } from '@reflex/bus';
import { discoverPacks, packConfigs, registerPacks } from '@reflex/packs';
import type { ChatSink } from '@reflex/chat';
import { loadChatConfig, startChatNotifier } from '@reflex/chat-notifier';
import { startRulesEngine } from '@reflex/rules-engine';
import { builtinRunners, DEFAULT_PATH } from '@reflex/runners';
import { actionBaseEnv, ensureStreams, namesOf, notifyChange, openBus, openStore, type ReflexConfig, type ServiceHandle } from '@reflex/runtime';
import { startSensors } from '@reflex/sensors';
import { newId, NotFoundError, type JsonObject } from '@reflex/model';
import type { KeyEntry, Store } from '@reflex/store';
import { loadSecretsKey, prepareAuth } from './auth-setup.ts';

export const SERVICE_NAMES = ['api', 'sensors', 'rules-engine', 'action-runner', 'chat-notifier'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface Launched {
  /** Where the API listens, when it was started. */
  url?: string;
  bus: Bus;
  store: Store;
  stop(): Promise<void>;
}

async function registerPacksFromDisk(config: ReflexConfig, store: Store, logger: Logger, secretsKey: Uint8Array): Promise<void> {
  const loaded = await discoverPacks(config.packsPaths);
  // Packs with a config.schema.yaml take their values from <config dir>/<pack>.yaml (secrets sealed).
  const results = await registerPacks(store, loaded, { config: { dir: config.configDir, sealing: kvSealing(secretsKey) } });
  for (const result of results) {
    if (result.ok) logger.info({ pack: result.pack }, 'pack registered');
    else logger.error({ pack: result.pack, errors: result.errors }, 'pack has errors; not registered');
  }
  // Registration at start is a change like POST /v1/packs/register: it goes in the audit trail.
  await store.audit.append({
    id: newId(),
    at: new Date().toISOString(),
    actor: { kind: 'system', name: 'reflex start' },
    action: 'pack.register',
    target: { type: 'pack', id: '*' },
    details: { registered: results.filter((r) => r.ok).map((r) => r.pack), failed: results.filter((r) => !r.ok).map((r) => r.pack) },
  });
}

export interface LaunchOptions {
  /** The process environment: action processes inherit the variables `config.actionEnv` names from it, and nothing else. */
  env?: Record<string, string | undefined>;
  /** Where the chat console target writes. Default: nowhere (tests); `reflex start` passes stdout. */
  consoleSink?: ChatSink;
}

export async function launch(
  config: ReflexConfig,
  services: readonly ServiceName[],
  logger: Logger,
  options: LaunchOptions = {},
): Promise<Launched> {
  const env = options.env ?? {};
  const started = new Set(services);
  const names = namesOf(config);
  const store = await openStore(config);
  let bus: Bus;
  try {
    bus = await openBus(config, `reflex-${[...started].join('+')}`);
  } catch (err) {
    await store.close();
    throw err;
  }
  const handles: ServiceHandle[] = [];
  const stop = async (): Promise<void> => {
    for (const handle of handles.reverse()) {
      try {
        await handle.stop();
      } catch (err) {
        logger.error({ err, service: handle.name }, 'service did not stop cleanly');
      }
    }
    await bus.close();
    await store.close();
  };

  try {
    await ensureStreams(bus, names);
    // Seals datastore and webhook secrets (API) and opens the datastore secrets templates read (rules engine).
    // The action runner and sensors open pack configuration secrets (ctx.config).
    const secretsKey = (['api', 'rules-engine', 'action-runner', 'sensors'] as const).some((s) => started.has(s)) ? loadSecretsKey(config, logger) : undefined;
    const configs = secretsKey === undefined ? undefined : packConfigs(store, kvSealing(secretsKey));
    // Opens the datastore secrets of a pack's scope for its sensors' and node actions' `ctx.kv.get`.
    const openSecret = secretsKey === undefined ? undefined : (entry: KeyEntry) => openKeyValue(secretsKey, entry.scope, entry.name, entry.value);
    const packConfig = async (pack: string): Promise<JsonObject | undefined> => {
      if (configs === undefined) return undefined;
      try {
        return await configs.get(pack);
      } catch (err) {
        if (err instanceof NotFoundError) return undefined; // unregistered meanwhile: no config
        throw err;
      }
    };
    if (started.has('api') && secretsKey !== undefined) await registerPacksFromDisk(config, store, logger, secretsKey);
    if (started.has('api')) {
      // Processes started before this one (sensors, rules engines) read the packs again now, not at their next periodic reload.
      await notifyChange(bus, names, { topic: 'packs', op: 'register' }).catch((err: unknown) => logger.warn({ err }, 'could not announce the packs registered at start'));
    }
    if (started.has('action-runner')) {
      handles.push(
        await startActionRunner({
          bus,
          store,
          names,
          logger,
          ackWaitMs: config.runnerAckWaitSeconds * 1000,
          defaultTimeoutMs: config.actionTimeoutSeconds * 1000,
          resultMaxBytes: config.resultMaxBytes,
          runners: builtinRunners({ baseEnv: { PATH: DEFAULT_PATH, ...actionBaseEnv(config, env) } }),
          packConfig,
          ...(openSecret === undefined ? {} : { openSecret }),
        }),
      );
    }
    if (started.has('chat-notifier')) {
      // Config errors stop the start, naming the file and the field.
      const chat = await loadChatConfig(config.configDir);
      logger.info({ file: chat.file ?? '(none: console only)', targets: Object.keys(chat.config.targets) }, 'chat targets');
      handles.push(
        await startChatNotifier({
          bus,
          store,
          names,
          logger,
          config: chat.config,
          retry: chat.retry,
          consoleSink: options.consoleSink ?? { write: () => true },
          ackWaitMs: config.runnerAckWaitSeconds * 1000,
        }),
      );
    }
    if (started.has('rules-engine')) {
      handles.push(await startRulesEngine({ bus, store, names, logger, ackWaitMs: config.ackWaitSeconds * 1000, ...(secretsKey === undefined ? {} : { secretsKey }) }));
    }
    if (started.has('sensors')) {
      handles.push(
        await startSensors({
          bus,
          store,
          names,
          logger,
          leaseTtlMs: config.sensorLeaseSeconds * 1000,
          // Sensor processes get what action processes get, never the service's own environment.
          sensorEnv: { PATH: DEFAULT_PATH, ...actionBaseEnv(config, env) },
          packConfig,
          ...(openSecret === undefined ? {} : { openSecret }),
        }),
      );
    }
    let url: string | undefined;
    if (started.has('api')) {
      const app = await buildApi({
        bus,
        store,
        names,
        logger,
        packsPaths: config.packsPaths,
        configDir: config.configDir,
        bodyLimitBytes: config.bodyLimitBytes,
        auth: await prepareAuth(config, store, logger, secretsKey),
        limits: {
          rateLimitPerMinute: config.rateLimitPerMinute,
          webhookRateLimitPerMinute: config.webhookRateLimitPerMinute,
          requestTimeoutMs: config.requestTimeoutSeconds * 1000,
        },
      });
      url = await app.listen({ port: config.port, host: config.host });
      handles.push({ name: 'api', stop: () => app.close() });
    }
    logger.info(
      {
        services: [...started],
        url,
        bus: config.natsUrl === '' ? 'embedded' : 'nats',
        store: config.mongodbUrl === '' ? 'sqlite' : 'mongodb',
        dataDir: config.dataDir,
      },
      url === undefined ? 'Reflex ready' : `Reflex ready at ${url}`,
    );
    return { ...(url === undefined ? {} : { url }), bus, store, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
