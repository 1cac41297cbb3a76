/**
 * Discord channel webhook.
 * - Execute (https://discord.com/developers/docs/resources/webhook#execute-webhook): POST
 *   `{url}?wait=true` with `{ content?, username?, avatar_url?, embeds, allowed_mentions }`; with
 *   `wait=true` the answer is the created message (`id`, `channel_id`), otherwise 204.
 * - Edit (https://discord.com/developers/docs/resources/webhook#edit-webhook-message): PATCH
 *   `/webhooks/{id}/{token}/messages/{message_id}`; 404 code 10008 "Unknown Message" when it is gone.
 * Embed limits (https://discord.com/developers/docs/resources/message#embed-object-embed-limits):
 * title 256, description 4096, 25 fields (name 256, value 1024), footer 2048, 6000 in all.
 * Errors are JSON `{ message, code }` (400 50035 "Invalid Form Body", 401 50027 "Invalid Webhook
 * Token", 404 10015 "Unknown Webhook"); 429 carries `{ retry_after }` in seconds
 * (https://discord.com/developers/docs/topics/rate-limits). `allowed_mentions: { parse: [] }`
 * keeps untrusted text from pinging @everyone.
 */
import { expectTarget, ChatRejectedError, type ChatAdapter, type DeliveryReceipt, type SendOptions } from '../adapter.ts';
import { failureFor, parseJson, sendHttp, stringField, type HttpContext, type HttpResponse } from '../http.ts';
import { severityColor, severityLabel, severitySymbol, truncate, type ChatMessage } from '../message.ts';
import { redactorFor, type Redactor } from '../secrets.ts';
import type { DiscordTarget, TargetConfig } from '../targets.ts';

const VENDOR = 'Discord webhook';

export const DISCORD_LIMITS = {
  title: 256,
  description: 4096,
  fields: 25,
  fieldName: 256,
  fieldValue: 1024,
  footer: 2048,
  total: 6000,
  inlineField: 40,
} as const;

export interface DiscordEmbed {
  title?: string;
  description: string;
  url?: string;
  color?: number;
  fields?: Array<{ name: string; value: string; inline: boolean }>;
  footer?: { text: string };
  timestamp: string;
}

export interface DiscordPayload {
  username?: string;
  avatar_url?: string;
  embeds: DiscordEmbed[];
  allowed_mentions: { parse: never[] };
}

function embedSize(e: DiscordEmbed): number {
  return (e.title?.length ?? 0) + e.description.length + (e.footer?.text.length ?? 0) + (e.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
}

export function renderDiscord(message: ChatMessage, options: { followUp?: boolean; now?: number } = {}, target?: Partial<DiscordTarget>): DiscordPayload {
  const symbol = message.severity === undefined ? '' : `${severitySymbol(message.severity)} `;
  let description = message.title === undefined ? symbol + message.text : message.text;
  if (message.link !== undefined && message.title === undefined) description += `\n[${message.link.label ?? 'Open'}](${message.link.url})`;
  const embed: DiscordEmbed = { description: truncate(description, DISCORD_LIMITS.description), timestamp: new Date(options.now ?? Date.now()).toISOString() };
  if (message.title !== undefined) {
    embed.title = truncate(symbol + message.title, DISCORD_LIMITS.title);
    if (message.link !== undefined) embed.url = message.link.url;
  }
  if (message.severity !== undefined) embed.color = Number.parseInt(severityColor(message.severity).slice(1), 16);
  const facts = message.facts ?? [];
  if (facts.length > 0) {
    embed.fields = facts.slice(0, DISCORD_LIMITS.fields).map((f) => ({
      name: truncate(f.key, DISCORD_LIMITS.fieldName),
      value: f.value === '' ? '\u200b' : truncate(f.value, DISCORD_LIMITS.fieldValue),
      inline: f.value.length <= DISCORD_LIMITS.inlineField,
    }));
  }
  const footer: string[] = [];
  if (options.followUp === true) footer.push('↻ update');
  if (message.severity !== undefined) footer.push(severityLabel(message.severity));
  if (facts.length > DISCORD_LIMITS.fields) footer.push(`+${facts.length - DISCORD_LIMITS.fields} more facts`);
  if (message.threadKey !== undefined) footer.push(`thread: ${truncate(message.threadKey, 200)}`);
  if (footer.length > 0) embed.footer = { text: truncate(footer.join(' · '), DISCORD_LIMITS.footer) };

  // 6000 characters across the embed: the description gives way first, then fields from the end.
  const over = embedSize(embed) - DISCORD_LIMITS.total;
  if (over > 0) embed.description = truncate(embed.description, Math.max(200, embed.description.length - over));
  while (embedSize(embed) > DISCORD_LIMITS.total && embed.fields !== undefined && embed.fields.length > 0) embed.fields.pop();

  const payload: DiscordPayload = { embeds: [embed], allowed_mentions: { parse: [] } };
  if (target?.username !== undefined) payload.username = target.username;
  if (target?.avatarUrl !== undefined) payload.avatar_url = target.avatarUrl;
  return payload;
}

/** Discord's error body: `{ message, code }`, and `retry_after` (seconds, fractional) on 429. */
function discordFailure(ctx: HttpContext, response: HttpResponse, redact: Redactor): Error {
  const json = parseJson(response.text) as { code?: unknown; retry_after?: unknown } | undefined;
  const said = stringField(json, 'message');
  const code = typeof json?.code === 'number' ? String(json.code) : undefined;
  const reason = said === undefined ? response.text : code === undefined ? said : `${said} (code ${code})`;
  const retryAfterMs = typeof json?.retry_after === 'number' ? Math.ceil(json.retry_after * 1000) : undefined;
  const error = failureFor(ctx, { vendor: VENDOR, redact }, response, reason, retryAfterMs);
  if (error instanceof ChatRejectedError && code !== undefined) return new ChatRejectedError(error.message, { status: response.status, reason: code });
  return error;
}

export function discordAdapter(ctx: HttpContext): ChatAdapter {
  async function post(t: DiscordTarget, message: ChatMessage, options: SendOptions, followUp: boolean): Promise<DeliveryReceipt> {
    const redact = redactorFor(t);
    const url = new URL(t.url);
    url.searchParams.set('wait', 'true');
    const response = await sendHttp(ctx, { vendor: VENDOR, method: 'POST', url: url.toString(), body: renderDiscord(message, { followUp, now: ctx.now() }, t), signal: options.signal, redact });
    if (response.status < 200 || response.status > 299) throw discordFailure(ctx, response, redact);
    const created = parseJson(response.text);
    const receipt: DeliveryReceipt = { target: t.name, adapter: 'discord', mode: followUp ? 'follow-up' : 'posted', editable: false };
    const id = stringField(created, 'id');
    const channel = stringField(created, 'channel_id');
    if (id !== undefined) {
      receipt.messageId = id;
      receipt.editable = true;
    }
    if (channel !== undefined) receipt.channel = channel;
    if (message.threadKey !== undefined) receipt.threadKey = message.threadKey;
    return receipt;
  }

  return {
    kind: 'discord',
    post: (target, message, options) => post(expectTarget(target, 'discord'), message, options, options.followUp === true),

    async update(target: TargetConfig, receipt: DeliveryReceipt | undefined, message: ChatMessage, options: SendOptions): Promise<DeliveryReceipt> {
      const t = expectTarget(target, 'discord');
      if (receipt?.adapter !== 'discord' || receipt.messageId === undefined) return post(t, message, options, true);
      const redact = redactorFor(t);
      const url = new URL(t.url);
      url.pathname = `${url.pathname.replace(/\/+$/, '')}/messages/${encodeURIComponent(receipt.messageId)}`;
      url.searchParams.delete('wait'); // thread_id, if the webhook posts into a thread, stays
      const response = await sendHttp(ctx, { vendor: VENDOR, method: 'PATCH', url: url.toString(), body: renderDiscord(message, { now: ctx.now() }), signal: options.signal, redact });
      if (response.status >= 200 && response.status <= 299) {
        const edited: DeliveryReceipt = { ...receipt, target: t.name, mode: 'edited', editable: true };
        if (message.threadKey !== undefined) edited.threadKey = message.threadKey;
        return edited;
      }
      const error = discordFailure(ctx, response, redact);
      // 10008 Unknown Message: it was deleted; say it anew.
      if (error instanceof ChatRejectedError && error.reason === '10008') return post(t, message, options, true);
      throw error;
    },
  };
}
