/**
 * Slack incoming webhook (https://docs.slack.dev/messaging/sending-messages-using-incoming-webhooks).
 * POST JSON `{ text, blocks }` to the hook URL; success is HTTP 200 with the body `ok`. Failures
 * are a status and a short text reason: 400 `invalid_payload` / `invalid_blocks` / `no_text`,
 * 403 `action_prohibited` / `invalid_token`, 404 `no_service` / `channel_not_found`,
 * 410 `channel_is_archived`, 429 with Retry-After, 500 `rollup_error`.
 * A webhook returns no message id: updates are posted as follow-ups.
 */
import { expectTarget, type ChatAdapter, type DeliveryReceipt, type SendOptions } from '../adapter.ts';
import { failureFor, sendHttp, type HttpContext } from '../http.ts';
import type { ChatMessage } from '../message.ts';
import { redactorFor } from '../secrets.ts';
import type { TargetConfig } from '../targets.ts';
import { renderSlack } from './slack-blocks.ts';

const VENDOR = 'Slack webhook';

export function slackWebhookAdapter(ctx: HttpContext): ChatAdapter {
  async function send(target: TargetConfig, message: ChatMessage, options: SendOptions, followUp: boolean): Promise<DeliveryReceipt> {
    const t = expectTarget(target, 'slack-webhook');
    const redact = redactorFor(t);
    const rendered = renderSlack(message, { followUp });
    const response = await sendHttp(ctx, { vendor: VENDOR, method: 'POST', url: t.url, body: rendered, signal: options.signal, redact });
    if (response.status !== 200) throw failureFor(ctx, { vendor: VENDOR, redact }, response, response.text.trim());
    const receipt: DeliveryReceipt = { target: t.name, adapter: 'slack-webhook', mode: followUp ? 'follow-up' : 'posted', editable: false };
    if (message.threadKey !== undefined) receipt.threadKey = message.threadKey;
    return receipt;
  }
  return {
    kind: 'slack-webhook',
    post: (target, message, options) => send(target, message, options, options.followUp === true),
    update: (target, _receipt, message, options) => send(target, message, options, true),
  };
}
