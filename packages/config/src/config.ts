/**
 * The one validated configuration of a Reflex process. Every environment variable Reflex reads is
 * named here (ENV) and nowhere else; services receive the parsed config, packages receive parts of it.
 */
import { resolve } from 'node:path';
import { validateModel, ValidationError } from '@reflex/model';

export const ENV = {
  port: 'REFLEX_PORT',
  host: 'REFLEX_HOST',
  dataDir: 'REFLEX_DATA_DIR',
  packsPath: 'REFLEX_PACKS_PATH',
  natsUrl: 'NATS_URL',
  mongodbUrl: 'MONGODB_URL',
  mongodbDb: 'REFLEX_MONGODB_DB',
  busPrefix: 'REFLEX_BUS_PREFIX',
  logLevel: 'REFLEX_LOG_LEVEL',
  eventsRetentionDays: 'REFLEX_EVENTS_RETENTION_DAYS',
  executionsRetentionDays: 'REFLEX_EXECUTIONS_RETENTION_DAYS',
  bodyLimitBytes: 'REFLEX_BODY_LIMIT_BYTES',
  ackWaitSeconds: 'REFLEX_ACK_WAIT_SECONDS',
  runnerAckWaitSeconds: 'REFLEX_RUNNER_ACK_WAIT_SECONDS',
  actionTimeoutSeconds: 'REFLEX_ACTION_TIMEOUT_SECONDS',
  resultMaxBytes: 'REFLEX_RESULT_MAX_BYTES',
  actionEnv: 'REFLEX_ACTION_ENV',
  configDir: 'REFLEX_CONFIG_DIR',
  auth: 'REFLEX_AUTH',
  secretsKey: 'REFLEX_SECRETS_KEY',
  rateLimitPerMinute: 'REFLEX_RATE_LIMIT_PER_MINUTE',
  webhookRateLimitPerMinute: 'REFLEX_WEBHOOK_RATE_LIMIT_PER_MINUTE',
  requestTimeoutSeconds: 'REFLEX_REQUEST_TIMEOUT_SECONDS',
  sensorLeaseSeconds: 'REFLEX_SENSOR_LEASE_SECONDS',
} as const;

/**
 * What the `reflex` client commands read besides ENV.dataDir (where `admin.key` is) and ENV.port
 * (the default API address): not server configuration, so not in ReflexConfig.
 */
export const CLIENT_ENV = {
  /** The API the commands talk to; default `http://127.0.0.1:<REFLEX_PORT or 8180>`. */
  url: 'REFLEX_URL',
  /** The key they send; default the data dir's `admin.key`. */
  apiKey: 'REFLEX_API_KEY',
  /** Any value: no colours (https://no-color.org). */
  noColor: 'NO_COLOR',
} as const;

export interface ReflexConfig {
  port: number;
  host: string;
  dataDir: string;
  packsPaths: string[];
  /** Empty: the embedded bus (persisted under dataDir). */
  natsUrl: string;
  /** Empty: the embedded SQLite store under dataDir. */
  mongodbUrl: string;
  mongodbDb: string;
  busPrefix: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  eventsRetentionDays: number;
  executionsRetentionDays: number;
  bodyLimitBytes: number;
  /** How long an unacked event waits before another rules engine gets it (after a crash). */
  ackWaitSeconds: number;
  /** How long a running execution's runner may stay silent before it counts as dead (abandoned). */
  runnerAckWaitSeconds: number;
  /** Attempt time limit of actions without a `timeout` policy. */
  actionTimeoutSeconds: number;
  /** Results larger than this (JSON bytes) are stored as a marked, truncated preview. */
  resultMaxBytes: number;
  /** Names of the runner's environment variables that action processes inherit (all others are withheld). */
  actionEnv: string[];
  /** Site configuration of packs: `<configDir>/<pack>.yaml` (e.g. chat.yaml with the chat targets). */
  configDir: string;
  /** `on` (default): every API route but health, docs and webhooks needs an API key. `off`: none does (a warning on every start). */
  auth: 'on' | 'off';
  /**
   * 32 bytes, base64/base64url: seals webhook and datastore secrets in the store. Empty:
   * `<dataDir>/secrets.key`, created on first start. API replicas and rules engines sharing a store
   * must share this key.
   */
  secretsKey: string;
  /** Requests per minute per API key (or per address without one); 0: unlimited. */
  rateLimitPerMinute: number;
  /** Requests per minute per webhook url; 0: unlimited. */
  webhookRateLimitPerMinute: number;
  /** How long a sensors process's lease on a sensor (and on the timers) lasts unless renewed: how soon another process takes over from a dead one. */
  sensorLeaseSeconds: number;
  /** How long a client may take to send its whole request. */
  requestTimeoutSeconds: number;
}

export const configSchema = {
  $id: 'reflex:config',
  type: 'object',
  additionalProperties: false,
  properties: {
    port: { type: 'integer', minimum: 0, maximum: 65535, default: 8180 },
    host: { type: 'string', minLength: 1, default: '127.0.0.1' },
    dataDir: { type: 'string', minLength: 1, default: './.reflex' },
    packsPaths: { type: 'array', items: { type: 'string', minLength: 1 }, default: ['./packs'] },
    natsUrl: { type: 'string', default: '' },
    mongodbUrl: { type: 'string', default: '' },
    mongodbDb: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,63}$', default: 'reflex' },
    busPrefix: { type: 'string', pattern: '^[a-z][a-z0-9_-]{0,31}$', default: 'reflex' },
    logLevel: { enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'], default: 'info' },
    eventsRetentionDays: { type: 'number', minimum: 0, default: 7 },
    executionsRetentionDays: { type: 'number', minimum: 0, default: 30 },
    bodyLimitBytes: { type: 'integer', minimum: 1024, default: 1048576 },
    ackWaitSeconds: { type: 'number', minimum: 1, maximum: 3600, default: 30 },
    runnerAckWaitSeconds: { type: 'number', minimum: 1, maximum: 3600, default: 60 },
    actionTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 604800, default: 600 },
    resultMaxBytes: { type: 'integer', minimum: 1024, default: 1048576 },
    actionEnv: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      default: ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TZ', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY'],
    },
    configDir: { type: 'string', minLength: 1, default: './config' },
    auth: { enum: ['on', 'off'], default: 'on' },
    secretsKey: { type: 'string', pattern: '^$|^[A-Za-z0-9+/_-]{43}=?$', default: '' },
    rateLimitPerMinute: { type: 'integer', minimum: 0, default: 3000 },
    // A webhook url is one sender (an Alertmanager, GitHub): a storm of 2,000/s is already abnormal.
    webhookRateLimitPerMinute: { type: 'integer', minimum: 0, default: 120000 },
    requestTimeoutSeconds: { type: 'number', exclusiveMinimum: 0, maximum: 3600, default: 30 },
    sensorLeaseSeconds: { type: 'number', minimum: 1, maximum: 3600, default: 15 },
  },
} as const;

const NUMERIC = new Set<keyof ReflexConfig>([
  'port',
  'eventsRetentionDays',
  'executionsRetentionDays',
  'bodyLimitBytes',
  'ackWaitSeconds',
  'runnerAckWaitSeconds',
  'actionTimeoutSeconds',
  'resultMaxBytes',
  'rateLimitPerMinute',
  'webhookRateLimitPerMinute',
  'requestTimeoutSeconds',
  'sensorLeaseSeconds',
]);

/** The variables named in `config.actionEnv` that are set in `env`: the base environment of action processes. */
export function actionBaseEnv(config: ReflexConfig, env: Record<string, string | undefined>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const name of config.actionEnv) {
    const value = env[name];
    if (value !== undefined) base[name] = value;
  }
  return base;
}

/**
 * Builds the config from an environment (pass `process.env`) plus explicit overrides.
 * Throws ValidationError naming the variable when a value is bad.
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: Partial<ReflexConfig> = {}, cwd = process.cwd()): ReflexConfig {
  const raw: Record<string, unknown> = {};
  for (const [key, name] of Object.entries(ENV) as [keyof typeof ENV, string][]) {
    const value = env[name];
    if (value === undefined || value === '') continue;
    if (key === 'packsPath') raw['packsPaths'] = value.split(':').filter((p) => p !== '');
    else if (key === 'actionEnv') raw['actionEnv'] = value.split(',').map((v) => v.trim()).filter((v) => v !== '');
    else if (NUMERIC.has(key as keyof ReflexConfig)) raw[key] = Number(value);
    else raw[key] = value;
  }
  Object.assign(raw, overrides);
  try {
    validateModel(configSchema, raw, 'config', 'configuration');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // Name the environment variable the user has to fix, not our internal field.
    const details = (err.details ?? []).map((d) => {
      const key = d.field.replace(/^config\.?/, '').split('.')[0] ?? '';
      const envName = key === 'packsPaths' ? ENV.packsPath : (ENV as Record<string, string>)[key];
      return { field: envName ?? d.field, message: d.message };
    });
    const first = details[0];
    throw new ValidationError(first ? `invalid configuration: ${first.field} ${first.message}` : 'invalid configuration', details);
  }
  const config = raw as unknown as ReflexConfig;
  config.dataDir = resolve(cwd, config.dataDir);
  config.configDir = resolve(cwd, config.configDir);
  config.packsPaths = config.packsPaths.map((p) => resolve(cwd, p));
  return config;
}
