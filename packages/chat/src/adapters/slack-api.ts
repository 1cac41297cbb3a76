/**
 * Slack Web API with a bot token.
 * - chat.postMessage (https://docs.slack.dev/reference/methods/chat.postMessage): POST
 *   `{baseUrl}/chat.postMessage`, `Authorization: Bearer xoxb-…`, JSON `{ channel, text, blocks,
 *   thread_ts? }` → `{ ok: true, channel, ts }`.
 * - chat.update (https://docs.slack.dev/reference/methods/chat.update): `{ channel, ts, text, blocks }`.
 * The Web API answers HTTP 200 even on failure, with `{ ok: false, error }`; rate limiting is
 * HTTP 429 with Retry-After (https://docs.slack.dev/apis/web-api/rate-limits). `internal_error`,
 * `fatal_error`, `service_unavailable` and `request_timeout` are worth retrying; every other
 * error (`invalid_auth`, `channel_not_found`, `not_in_channel`, `invalid_blocks`, …) is not.
 */
import { RetryAfterError } from '@reflex/model';
import {
  ChatRejectedError,
  ChatUnavailableError,
  expectTarget,
  type ChatAdapter,
  type DeliveryReceipt,
  type SendOptions,
} from '../adapter.ts';
import { DEFAULT_RETRY_AFTER_MS, failureFor, parseJson, parseRetryAfter, sendHttp, stringField, type HttpContext } from '../http.ts';
import type { ChatMessage } from '../message.ts';
import { redactorFor, type Redactor } from '../secrets.ts';
import type { SlackApiTarget, TargetConfig } from '../targets.ts';
import { renderSlack } from './slack-blocks.ts';

const VENDOR = 'Slack API';
export const SLACK_API_BASE_URL = 'https://slack.com/api';

const RETRIABLE = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout']);
/** chat.update refusals after which a reply in the thread still reaches people. */
const CANNOT_EDIT = new Set(['cant_update_message', 'edit_window_closed', 'update_failed']);

interface SlackOk {
  channel: string;
  ts: string;
}

export function slackApiAdapter(ctx: HttpContext): ChatAdapter {
  async function call(t: SlackApiTarget, method: string, body: Record<string, unknown>, signal: AbortSignal, redact: Redactor): Promise<SlackOk> {
    const base = (t.baseUrl ?? SLACK_API_BASE_URL).replace(/\/+$/, '');
    const response = await sendHttp(ctx, {
      vendor: `${VENDOR} ${method}`,
      method: 'POST',
      url: `${base}/${method}`,
      headers: { authorization: `Bearer ${t.token}` },
      body,
      signal,
      redact,
    });
    const json = parseJson(response.text);
    const error = stringField(json, 'error');
    if (response.status !== 200) throw failureFor(ctx, { vendor: `${VENDOR} ${method}`, redact }, response, error ?? response.text);
    if (json === undefined || (json as { ok?: unknown }).ok !== true) {
      const reason = error ?? 'unknown_error';
      const what = `${VENDOR} ${method} failed: ${redact(reason)}`;
      if (reason === 'ratelimited') {
        const wait = parseRetryAfter(response.headers.get('retry-after'), ctx.now()) ?? DEFAULT_RETRY_AFTER_MS;
        throw new RetryAfterError(`${what}; retry after ${wait} ms`, wait);
      }
      if (RETRIABLE.has(reason)) throw new ChatUnavailableError(what, { status: 200 });
      throw new ChatRejectedError(what, { status: 200, reason });
    }
    const ts = stringField(json, 'ts');
    const channel = stringField(json, 'channel');
    if (ts === undefined || channel === undefined) throw new ChatUnavailableError(`${VENDOR} ${method} answered ok without ts/channel`);
    return { ts, channel };
  }

  function receiptOf(t: SlackApiTarget, ok: SlackOk, mode: DeliveryReceipt['mode'], message: ChatMessage): DeliveryReceipt {
    const receipt: DeliveryReceipt = { target: t.name, adapter: 'slack-api', mode, messageId: ok.ts, channel: ok.channel, editable: true };
    if (message.threadKey !== undefined) receipt.threadKey = message.threadKey;
    return receipt;
  }

  async function post(
    t: SlackApiTarget,
    message: ChatMessage,
    options: SendOptions,
    how: { followUp: boolean; threadTs?: string },
  ): Promise<DeliveryReceipt> {
    const redact = redactorFor(t);
    const rendered = renderSlack(message, { followUp: how.followUp });
    const body: Record<string, unknown> = { channel: t.channel, text: rendered.text, blocks: rendered.blocks, unfurl_links: false, unfurl_media: false };
    if (how.threadTs !== undefined) body['thread_ts'] = how.threadTs;
    const ok = await call(t, 'chat.postMessage', body, options.signal, redact);
    return receiptOf(t, ok, how.threadTs !== undefined ? 'threaded' : how.followUp ? 'follow-up' : 'posted', message);
  }

  return {
    kind: 'slack-api',
    post: (target, message, options) => post(expectTarget(target, 'slack-api'), message, options, { followUp: options.followUp === true }),

    async update(target: TargetConfig, receipt: DeliveryReceipt | undefined, message: ChatMessage, options: SendOptions): Promise<DeliveryReceipt> {
      const t = expectTarget(target, 'slack-api');
      if (receipt?.adapter !== 'slack-api' || receipt.messageId === undefined || receipt.channel === undefined) {
        return post(t, message, options, { followUp: true });
      }
      const redact = redactorFor(t);
      const rendered = renderSlack(message);
      try {
        const ok = await call(t, 'chat.update', { channel: receipt.channel, ts: receipt.messageId, text: rendered.text, blocks: rendered.blocks }, options.signal, redact);
        return receiptOf(t, ok, 'edited', message);
      } catch (err) {
        if (!(err instanceof ChatRejectedError) || err.reason === undefined) throw err;
        // The message can no longer be edited: say it in its thread. It is gone: say it anew.
        if (CANNOT_EDIT.has(err.reason)) return post(t, message, options, { followUp: true, threadTs: receipt.messageId });
        if (err.reason === 'message_not_found') return post(t, message, options, { followUp: true });
        throw err;
      }
    },
  };
}
