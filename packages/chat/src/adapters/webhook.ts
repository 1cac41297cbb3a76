/**
 * Generic webhook: POSTs the message model itself as JSON, for systems that are not chat vendors
 * (an incident tool, a bridge, an audit log).
 *
 * Body: `{ type: 'reflex.chat.message', version: 1, action: 'post' | 'update', target, message,
 * replaces?, sentAt }` where `replaces` is the `id` the receiver returned for the message being updated.
 * Headers: `Idempotency-Key` (same key on every retry of one delivery, so the receiver can drop
 * repeats), configured headers, and with a secret `X-Reflex-Timestamp: <unix seconds>` and
 * `X-Reflex-Signature: v1=<hex HMAC-SHA256(secret, "<timestamp>.<body>")>` (the scheme Stripe and
 * Slack use for their own webhooks: the timestamp in the MAC defeats replays).
 * Any 2xx is success; a JSON answer with a string `id` makes later updates refer to it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { expectTarget, type ChatAdapter, type DeliveryReceipt, type SendOptions } from '../adapter.ts';
import { failureFor, parseJson, sendHttp, stringField, type HttpContext } from '../http.ts';
import type { ChatMessage } from '../message.ts';
import { redactorFor } from '../secrets.ts';
import type { TargetConfig, WebhookTarget } from '../targets.ts';

const VENDOR = 'Webhook';

export const SIGNATURE_HEADER = 'x-reflex-signature';
export const TIMESTAMP_HEADER = 'x-reflex-timestamp';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

export interface WebhookBody {
  type: 'reflex.chat.message';
  version: 1;
  action: 'post' | 'update';
  target: string;
  message: ChatMessage;
  /** On an update: the receiver's `id` of the message it updates. */
  replaces?: string;
  sentAt: string;
}

/** `v1=<hex>`: HMAC-SHA256 over `<timestamp>.<body>`. */
export function signWebhookBody(secret: string, timestamp: number, body: string): string {
  return `v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/**
 * For receivers (and tests): true when `signature` is `body`'s signature with `secret` and the
 * timestamp is within `toleranceSeconds` of `now` (milliseconds). Constant-time comparison.
 */
export function verifyWebhookSignature(input: {
  secret: string;
  body: string;
  timestamp: string | undefined;
  signature: string | undefined;
  now?: number;
  toleranceSeconds?: number;
}): boolean {
  if (input.timestamp === undefined || input.signature === undefined || !/^\d+$/.test(input.timestamp)) return false;
  const ts = Number(input.timestamp);
  const now = Math.floor((input.now ?? Date.now()) / 1000);
  if (Math.abs(now - ts) > (input.toleranceSeconds ?? 300)) return false;
  const expected = Buffer.from(signWebhookBody(input.secret, ts, input.body));
  const given = Buffer.from(input.signature);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export function renderWebhook(target: string, message: ChatMessage, action: 'post' | 'update', now: number, replaces?: string): WebhookBody {
  const body: WebhookBody = { type: 'reflex.chat.message', version: 1, action, target, message, sentAt: new Date(now).toISOString() };
  if (replaces !== undefined) body.replaces = replaces;
  return body;
}

export function webhookAdapter(ctx: HttpContext): ChatAdapter {
  async function send(t: WebhookTarget, message: ChatMessage, options: SendOptions, action: 'post' | 'update', replaces?: string): Promise<DeliveryReceipt> {
    const redact = redactorFor(t);
    const now = ctx.now();
    const body = JSON.stringify(renderWebhook(t.name, message, action, now, replaces));
    const headers: Record<string, string> = { ...t.headers };
    if (options.idempotencyKey !== undefined) headers[IDEMPOTENCY_HEADER] = options.idempotencyKey;
    if (t.secret !== undefined) {
      const timestamp = Math.floor(now / 1000);
      headers[TIMESTAMP_HEADER] = String(timestamp);
      headers[SIGNATURE_HEADER] = signWebhookBody(t.secret, timestamp, body);
    }
    const response = await sendHttp(ctx, { vendor: VENDOR, method: 'POST', url: t.url, headers, body, signal: options.signal, redact });
    if (response.status < 200 || response.status > 299) {
      const json = parseJson(response.text);
      throw failureFor(ctx, { vendor: VENDOR, redact }, response, stringField(json, 'error') ?? stringField(json, 'message') ?? response.text);
    }
    const id = stringField(parseJson(response.text), 'id');
    const mode: DeliveryReceipt['mode'] = action === 'post' ? 'posted' : replaces !== undefined ? 'edited' : 'follow-up';
    const receipt: DeliveryReceipt = { target: t.name, adapter: 'webhook', mode, editable: id !== undefined || replaces !== undefined };
    const messageId = id ?? replaces;
    if (messageId !== undefined) receipt.messageId = messageId;
    if (message.threadKey !== undefined) receipt.threadKey = message.threadKey;
    return receipt;
  }
  return {
    kind: 'webhook',
    post: (target, message, options) => send(expectTarget(target, 'webhook'), message, options, options.followUp === true ? 'update' : 'post'),
    update: (target: TargetConfig, receipt, message, options) => {
      const replaces = receipt?.adapter === 'webhook' ? receipt.messageId : undefined;
      return send(expectTarget(target, 'webhook'), message, options, 'update', replaces);
    },
  };
}
