/**
 * Named chat targets: the chat pack's configuration. A rule says `target: oncall`; the config
 * says what `oncall` is (a Slack webhook, a Teams workflow, …). Validation names the field
 * (`targets.oncall.url`) and says what is missing for that adapter.
 */
import { validateModel, ValidationError, type ErrorDetail } from '@reflex/model';

export const ADAPTER_KINDS = ['slack-webhook', 'slack-api', 'mattermost', 'teams', 'discord', 'webhook', 'console'] as const;
export type AdapterKind = (typeof ADAPTER_KINDS)[number];

interface TargetBase {
  /** The key under `targets`, filled in by parseChatConfig. */
  name: string;
  /** Per-attempt timeout for this target, overriding the deliverer's. */
  timeoutMs?: number;
}

/** Slack incoming webhook (https://hooks.slack.com/services/…). The URL is the secret. */
export interface SlackWebhookTarget extends TargetBase {
  adapter: 'slack-webhook';
  url: string;
}

/** Slack Web API with a bot token: chat.postMessage / chat.update, so messages can be edited and threaded. */
export interface SlackApiTarget extends TargetBase {
  adapter: 'slack-api';
  token: string;
  /** Channel id (C0123…) or name (#alerts); the bot must be a member. */
  channel: string;
  /** Default https://slack.com/api (tests point it at a local server). */
  baseUrl?: string;
}

/** Mattermost incoming webhook (https://mm.example.com/hooks/xxx). */
export interface MattermostTarget extends TargetBase {
  adapter: 'mattermost';
  url: string;
  channel?: string;
  username?: string;
  iconUrl?: string;
}

/** Microsoft Teams Workflows webhook ("When a Teams webhook request is received"). The URL (its `sig`) is the secret. */
export interface TeamsTarget extends TargetBase {
  adapter: 'teams';
  url: string;
}

/** Discord channel webhook (https://discord.com/api/webhooks/{id}/{token}). */
export interface DiscordTarget extends TargetBase {
  adapter: 'discord';
  url: string;
  username?: string;
  avatarUrl?: string;
}

/** Any HTTP endpoint that takes the message model as JSON, optionally signed with HMAC-SHA256. */
export interface WebhookTarget extends TargetBase {
  adapter: 'webhook';
  url: string;
  secret?: string;
  headers?: Record<string, string>;
}

/** One readable line per message on the sink the process gives (stdout): the embedded default. */
export interface ConsoleTarget extends TargetBase {
  adapter: 'console';
}

export type TargetConfig =
  | SlackWebhookTarget
  | SlackApiTarget
  | MattermostTarget
  | TeamsTarget
  | DiscordTarget
  | WebhookTarget
  | ConsoleTarget;

export interface ChatConfig {
  targets: Record<string, TargetConfig>;
  /** The target a chat action uses when it names none. Default `console`. */
  defaultTarget: string;
}

/** Which fields each adapter requires, and which it accepts at all (beside `adapter` and `timeoutMs`). */
const ADAPTER_FIELDS: Record<AdapterKind, { required: string[]; optional: string[] }> = {
  'slack-webhook': { required: ['url'], optional: [] },
  'slack-api': { required: ['token', 'channel'], optional: ['baseUrl'] },
  mattermost: { required: ['url'], optional: ['channel', 'username', 'iconUrl'] },
  teams: { required: ['url'], optional: [] },
  discord: { required: ['url'], optional: ['username', 'avatarUrl'] },
  webhook: { required: ['url'], optional: ['secret', 'headers'] },
  console: { required: [], optional: [] },
};

const httpUrl = { type: 'string', format: 'uri', pattern: '^https?://', maxLength: 2048 } as const;

/** Header names our generic webhook sets itself; config may not override them. */
export const RESERVED_WEBHOOK_HEADERS = ['content-type', 'content-length', 'host', 'idempotency-key', 'x-reflex-signature', 'x-reflex-timestamp'];

/**
 * JSON Schema of the chat pack's configuration (`packs/chat/config.schema.yaml` can be this, as
 * YAML). Fields marked `secret: true` are credentials: store them encrypted, mask them in output.
 */
export const chatConfigSchema = {
  $id: 'reflex:chat-config',
  type: 'object',
  additionalProperties: false,
  properties: {
    defaultTarget: { type: 'string', minLength: 1, description: 'Target used when a chat action names none. Default console.' },
    targets: {
      type: 'object',
      description: 'Named chat targets; rules refer to them by name.',
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['adapter'],
        properties: {
          adapter: { enum: [...ADAPTER_KINDS] },
          url: { ...httpUrl, secret: true, description: 'Webhook URL (slack-webhook, mattermost, teams, discord, webhook).' },
          token: { type: 'string', minLength: 1, secret: true, description: 'Bot token xoxb-… (slack-api).' },
          channel: { type: 'string', minLength: 1, description: 'Channel id or name (slack-api; optional override for mattermost).' },
          baseUrl: { ...httpUrl, description: 'Slack Web API base URL (slack-api). Default https://slack.com/api.' },
          username: { type: 'string', minLength: 1, description: 'Display name override (mattermost, discord).' },
          iconUrl: { ...httpUrl, description: 'Icon override (mattermost).' },
          avatarUrl: { ...httpUrl, description: 'Avatar override (discord).' },
          secret: { type: 'string', minLength: 16, secret: true, description: 'HMAC-SHA256 signing secret (webhook).' },
          headers: {
            type: 'object',
            secret: true,
            description: 'Extra request headers (webhook).',
            propertyNames: { pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
            additionalProperties: { type: 'string', pattern: '^[^\\r\\n]*$' },
          },
          timeoutMs: { type: 'integer', minimum: 100, maximum: 300000, description: 'Per-attempt timeout for this target.' },
        },
        allOf: ADAPTER_KINDS.filter((kind) => ADAPTER_FIELDS[kind].required.length > 0).map((kind) => ({
          if: { properties: { adapter: { const: kind } }, required: ['adapter'] },
          then: { required: ADAPTER_FIELDS[kind].required },
        })),
      },
    },
  },
} as const;

const TARGET_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/;

/** The target every configuration has unless it defines its own `console`. */
const BUILTIN_CONSOLE: ConsoleTarget = { name: 'console', adapter: 'console' };

/**
 * Checks the chat pack's configuration and returns it with each target's name filled in, a
 * built-in `console` target added (unless one is defined) and `defaultTarget` resolved.
 * Throws ValidationError naming every bad field under `root` (`targets.oncall.url is required`).
 */
export function parseChatConfig(input: unknown, root = ''): ChatConfig {
  const copy: unknown = input === undefined || input === null ? {} : structuredClone(input);
  const details: ErrorDetail[] = [];
  try {
    validateModel(chatConfigSchema, copy, root, 'chat configuration');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    // An unmet if/then also reports "must match "then" schema" on the target; the required field says it better.
    details.push(...(err.details ?? []).filter((d) => !/must match "(then|else)" schema/.test(d.message)));
  }
  const raw = copy as { targets?: Record<string, Record<string, unknown>>; defaultTarget?: string };
  const field = (...path: string[]): string => [root, ...path].filter((s) => s !== '').join('.');
  const targets: Record<string, TargetConfig> = {};
  if (details.length === 0) {
    for (const [name, spec] of Object.entries(raw.targets ?? {})) {
      if (!TARGET_NAME.test(name)) {
        details.push({ field: field('targets', name), message: 'target names are 1-64 letters, digits, _ . - (not starting with . or -)' });
        continue;
      }
      const kind = spec['adapter'] as AdapterKind;
      const allowed = new Set(['adapter', 'timeoutMs', ...ADAPTER_FIELDS[kind].required, ...ADAPTER_FIELDS[kind].optional]);
      for (const key of Object.keys(spec)) {
        if (!allowed.has(key)) details.push({ field: field('targets', name, key), message: `is not used by the ${kind} adapter` });
      }
      if (kind === 'webhook' && spec['headers'] !== undefined) {
        for (const header of Object.keys(spec['headers'] as Record<string, string>)) {
          if (RESERVED_WEBHOOK_HEADERS.includes(header.toLowerCase())) {
            details.push({ field: field('targets', name, 'headers', header), message: 'is set by Reflex and cannot be overridden' });
          }
        }
      }
      targets[name] = { ...spec, name } as unknown as TargetConfig;
    }
  }
  if (details.length === 0 && targets['console'] === undefined) targets['console'] = { ...BUILTIN_CONSOLE };
  const defaultTarget = raw.defaultTarget ?? 'console';
  if (details.length === 0 && targets[defaultTarget] === undefined) {
    details.push({ field: field('defaultTarget'), message: `names no target (known: ${Object.keys(targets).sort().join(', ')})` });
  }
  if (details.length > 0) {
    const first = details[0] as ErrorDetail;
    throw new ValidationError(`chat configuration is invalid: ${first.field} ${first.message}`, details, { code: 'CHAT_CONFIG_INVALID' });
  }
  return { targets, defaultTarget };
}
