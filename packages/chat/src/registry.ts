/**
 * The adapters by kind, built once per process with what they need from outside: fetch, a
 * clock, and the console's sink. Services inject these; nothing here is a module-level singleton.
 */
import type { ChatAdapter } from './adapter.ts';
import { consoleAdapter, type ChatSink } from './adapters/console.ts';
import { discordAdapter } from './adapters/discord.ts';
import { mattermostAdapter } from './adapters/mattermost.ts';
import { slackApiAdapter } from './adapters/slack-api.ts';
import { slackWebhookAdapter } from './adapters/slack-webhook.ts';
import { teamsAdapter } from './adapters/teams.ts';
import { webhookAdapter } from './adapters/webhook.ts';
import type { FetchFn, HttpContext } from './http.ts';
import type { AdapterKind } from './targets.ts';

export type ChatAdapters = ReadonlyMap<AdapterKind, ChatAdapter>;

export interface ChatAdapterOptions {
  /** Where the console adapter writes its lines (the launcher passes process.stdout). */
  consoleSink: ChatSink;
  /** Default: the global fetch. */
  fetch?: FetchFn;
  /** Milliseconds since the epoch; default Date.now. */
  now?: () => number;
  /** Sent as User-Agent. Default `Reflex-Chat/0.1`. */
  userAgent?: string;
  /** Adapters that replace the built-in ones of the same kind (a test double, a proxying variant). */
  overrides?: ChatAdapter[];
}

export function createChatAdapters(options: ChatAdapterOptions): ChatAdapters {
  const ctx: HttpContext = {
    fetch: options.fetch ?? ((input, init) => fetch(input, init)),
    now: options.now ?? Date.now,
    userAgent: options.userAgent ?? 'Reflex-Chat/0.1',
  };
  const adapters: ChatAdapter[] = [
    slackWebhookAdapter(ctx),
    slackApiAdapter(ctx),
    mattermostAdapter(ctx),
    teamsAdapter(ctx),
    discordAdapter(ctx),
    webhookAdapter(ctx),
    consoleAdapter(options.consoleSink, ctx.now),
    ...(options.overrides ?? []),
  ];
  return new Map(adapters.map((a) => [a.kind, a]));
}
