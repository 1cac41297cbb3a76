/**
 * Mattermost incoming webhook (https://developers.mattermost.com/integrate/webhooks/incoming/)
 * with message attachments (https://developers.mattermost.com/integrate/reference/message-attachments/):
 * POST `{ text?, username?, icon_url?, channel?, attachments: [{ fallback, color, title, title_link,
 * text, fields: [{ title, value, short }], footer }] }`; success is 200 `ok`, failures are JSON
 * `{ id, message, status_code }`. A post holds at most 16,383 characters. `@channel`, `@all` and
 * `@here` in untrusted text are defused with a zero-width space. No post id comes back: updates
 * are follow-ups.
 */
import { expectTarget, type ChatAdapter, type DeliveryReceipt, type SendOptions } from '../adapter.ts';
import { failureFor, parseJson, sendHttp, stringField, type HttpContext } from '../http.ts';
import { severityColor, severityLabel, severitySymbol, summaryOf, truncate, type ChatMessage } from '../message.ts';
import { redactorFor } from '../secrets.ts';
import type { MattermostTarget, TargetConfig } from '../targets.ts';

const VENDOR = 'Mattermost webhook';

export const MATTERMOST_LIMITS = {
  text: 16000,
  fallback: 1000,
  title: 1000,
  fields: 40,
  fieldValue: 2000,
  shortField: 40,
} as const;

export interface MattermostField {
  title: string;
  value: string;
  short: boolean;
}

export interface MattermostAttachment {
  fallback: string;
  color?: string;
  title?: string;
  title_link?: string;
  text: string;
  fields?: MattermostField[];
  footer?: string;
}

export interface MattermostPayload {
  username?: string;
  icon_url?: string;
  channel?: string;
  attachments: MattermostAttachment[];
}

/** Keeps untrusted text from notifying a whole channel. */
export function defuseMentions(text: string): string {
  return text.replace(/@(channel|all|here)\b/gi, '@\u200b$1');
}

export function renderMattermost(message: ChatMessage, options: { followUp?: boolean } = {}, target?: Partial<MattermostTarget>): MattermostPayload {
  const symbol = message.severity === undefined ? '' : `${severitySymbol(message.severity)} `;
  let text = defuseMentions(message.text);
  if (message.link !== undefined && message.title === undefined) text += `\n[${message.link.label ?? message.link.url}](${message.link.url})`;
  const attachment: MattermostAttachment = {
    fallback: truncate(defuseMentions((options.followUp === true ? '↻ ' : '') + summaryOf(message)), MATTERMOST_LIMITS.fallback),
    text: truncate(message.title === undefined ? symbol + text : text, MATTERMOST_LIMITS.text),
  };
  if (message.severity !== undefined) attachment.color = severityColor(message.severity);
  if (message.title !== undefined) {
    attachment.title = truncate(symbol + defuseMentions(message.title), MATTERMOST_LIMITS.title);
    if (message.link !== undefined) attachment.title_link = message.link.url;
  }
  const facts = message.facts ?? [];
  if (facts.length > 0) {
    attachment.fields = facts.slice(0, MATTERMOST_LIMITS.fields).map((f) => ({
      title: truncate(defuseMentions(f.key), 200),
      value: truncate(defuseMentions(f.value), MATTERMOST_LIMITS.fieldValue),
      short: f.value.length <= MATTERMOST_LIMITS.shortField,
    }));
  }
  const footer: string[] = [];
  if (options.followUp === true) footer.push('↻ update');
  if (message.severity !== undefined) footer.push(severityLabel(message.severity));
  if (facts.length > MATTERMOST_LIMITS.fields) footer.push(`+${facts.length - MATTERMOST_LIMITS.fields} more facts`);
  if (message.threadKey !== undefined) footer.push(`thread: ${truncate(message.threadKey, 200)}`);
  if (footer.length > 0) attachment.footer = footer.join(' · ');

  const payload: MattermostPayload = { attachments: [attachment] };
  if (target?.username !== undefined) payload.username = target.username;
  if (target?.iconUrl !== undefined) payload.icon_url = target.iconUrl;
  if (target?.channel !== undefined) payload.channel = target.channel;
  return payload;
}

export function mattermostAdapter(ctx: HttpContext): ChatAdapter {
  async function send(target: TargetConfig, message: ChatMessage, options: SendOptions, followUp: boolean): Promise<DeliveryReceipt> {
    const t = expectTarget(target, 'mattermost');
    const redact = redactorFor(t);
    const response = await sendHttp(ctx, { vendor: VENDOR, method: 'POST', url: t.url, body: renderMattermost(message, { followUp }, t), signal: options.signal, redact });
    if (response.status < 200 || response.status > 299) {
      const json = parseJson(response.text);
      throw failureFor(ctx, { vendor: VENDOR, redact }, response, stringField(json, 'message') ?? response.text);
    }
    const receipt: DeliveryReceipt = { target: t.name, adapter: 'mattermost', mode: followUp ? 'follow-up' : 'posted', editable: false };
    if (message.threadKey !== undefined) receipt.threadKey = message.threadKey;
    return receipt;
  }
  return {
    kind: 'mattermost',
    post: (target, message, options) => send(target, message, options, options.followUp === true),
    update: (target, _receipt, message, options) => send(target, message, options, true),
  };
}
