/**
 * @reflex/chat: chat delivery. One message model (ChatMessage) rendered for Slack (incoming
 * webhook and Web API), Mattermost, Microsoft Teams, Discord, a generic webhook and the console;
 * named targets from the chat pack's config; and a Deliverer with retries, Retry-After, per-target
 * circuit breakers and timeouts. The vendor protocol test servers are in `test/servers.ts`.
 */
export {
  chatMessageSchema,
  parseChatMessage,
  severityColor,
  severityLabel,
  severitySymbol,
  summaryOf,
  truncate,
  SEVERITIES,
  TRUNCATION_MARKER,
} from './message.ts';
export type { ChatFact, ChatLink, ChatMessage, Severity } from './message.ts';

export { ADAPTER_KINDS, chatConfigSchema, parseChatConfig, RESERVED_WEBHOOK_HEADERS } from './targets.ts';
export type {
  AdapterKind,
  ChatConfig,
  ConsoleTarget,
  DiscordTarget,
  MattermostTarget,
  SlackApiTarget,
  SlackWebhookTarget,
  TargetConfig,
  TeamsTarget,
  WebhookTarget,
} from './targets.ts';

export { ChatRejectedError, ChatUnavailableError, expectTarget } from './adapter.ts';
export type { ChatAdapter, DeliveryMode, DeliveryReceipt, SendOptions } from './adapter.ts';

export { maskUrl, redactor, redactorFor, redactTarget, secretsOf, MASK } from './secrets.ts';
export type { Redactor } from './secrets.ts';

export { parseRetryAfter } from './http.ts';
export type { FetchFn } from './http.ts';

export { createChatAdapters } from './registry.ts';
export type { ChatAdapterOptions, ChatAdapters } from './registry.ts';

export { renderSlack, escapeMrkdwn, SLACK_LIMITS } from './adapters/slack-blocks.ts';
export type { SlackBlock, SlackRendered } from './adapters/slack-blocks.ts';
export { SLACK_API_BASE_URL } from './adapters/slack-api.ts';
export { renderMattermost, MATTERMOST_LIMITS } from './adapters/mattermost.ts';
export type { MattermostPayload } from './adapters/mattermost.ts';
export { renderTeams, ADAPTIVE_CARD_CONTENT_TYPE, TEAMS_LIMITS } from './adapters/teams.ts';
export type { AdaptiveCard, TeamsPayload } from './adapters/teams.ts';
export { renderDiscord, DISCORD_LIMITS } from './adapters/discord.ts';
export type { DiscordEmbed, DiscordPayload } from './adapters/discord.ts';
export {
  renderWebhook,
  signWebhookBody,
  verifyWebhookSignature,
  IDEMPOTENCY_HEADER,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
} from './adapters/webhook.ts';
export type { WebhookBody } from './adapters/webhook.ts';
export { renderConsoleLine } from './adapters/console.ts';
export type { ChatSink } from './adapters/console.ts';

export { CircuitBreaker } from './circuit-breaker.ts';
export type { CircuitBreakerOptions, CircuitSnapshot, CircuitState } from './circuit-breaker.ts';
export { Deliverer, DEFAULT_RETRY } from './delivery.ts';
export type { DelivererOptions, DeliveryEvent, DeliveryOutcome, DeliveryRequest, ExhaustedReason, RetryOptions } from './delivery.ts';

export { createChatRunner, ChatExhaustedError, CHAT_EXHAUSTED, CHAT_REJECTED, CHAT_RUNNER } from './runner.ts';
export type { ThreadReceipts } from './runner.ts';
