/**
 * The port every chat vendor implements, and the errors that tell the deliverer what to do next:
 * RetryAfterError (wait that long), ChatRejectedError (never retry: the vendor said no),
 * anything else (ChatUnavailableError: network, timeout, 5xx) is retried with backoff.
 */
import { NonRetriableError, ReflexError } from '@reflex/model';
import type { ChatMessage } from './message.ts';
import type { AdapterKind, TargetConfig } from './targets.ts';

/** How a delivery reached chat. */
export type DeliveryMode =
  /** A new message. */
  | 'posted'
  /** The earlier message was edited in place (Slack chat.update, Discord PATCH, webhook update). */
  | 'edited'
  /** A reply in the earlier message's thread (Slack thread_ts). */
  | 'threaded'
  /** A new message marked as an update of its thread key (the vendor cannot edit or thread). */
  | 'follow-up';

/**
 * What a delivery left behind: plain JSON, to be stored per thread key so a later `chat.update`
 * can edit the same message. Holds no credentials.
 */
export interface DeliveryReceipt {
  target: string;
  adapter: AdapterKind;
  mode: DeliveryMode;
  /** The vendor's id of the message: Slack `ts`, Discord message id, a webhook's `id`. */
  messageId?: string;
  /** The vendor's id of the channel it landed in (Slack channel id, Discord channel id). */
  channel?: string;
  /** True when a later update can edit this message in place. */
  editable: boolean;
  threadKey?: string;
}

export interface SendOptions {
  /** Aborted on the per-attempt timeout or when the caller gives up. */
  signal: AbortSignal;
  /** Passed to vendors that deduplicate on one (generic webhook: `Idempotency-Key`). */
  idempotencyKey?: string;
  /** Render the message as an update of its thread (used when the adapter can neither edit nor thread). */
  followUp?: boolean;
}

export interface ChatAdapter {
  readonly kind: AdapterKind;
  /** Posts a new message. Resolves with the receipt once the vendor accepted it. */
  post(target: TargetConfig, message: ChatMessage, options: SendOptions): Promise<DeliveryReceipt>;
  /**
   * Updates the message `receipt` points at: edits it where the vendor allows, otherwise replies
   * in its thread, otherwise posts a follow-up. Without a receipt it posts a follow-up. An adapter
   * without `update` gets `post` with `followUp: true`.
   */
  update?(target: TargetConfig, receipt: DeliveryReceipt | undefined, message: ChatMessage, options: SendOptions): Promise<DeliveryReceipt>;
}

/** The vendor could not be reached or failed on its side (network, timeout, 5xx): worth retrying. */
export class ChatUnavailableError extends ReflexError {
  readonly status: number | undefined;
  constructor(message: string, options?: { status?: number }) {
    super('CHAT_VENDOR_UNAVAILABLE', message);
    this.status = options?.status;
  }
}

/** The vendor refused (bad payload, bad credentials, unknown channel): retrying cannot help. */
export class ChatRejectedError extends NonRetriableError {
  readonly status: number | undefined;
  /** The vendor's own reason code (`invalid_blocks`, `channel_not_found`, `50035`) when it gave one. */
  readonly reason: string | undefined;
  constructor(message: string, options?: { status?: number; reason?: string; code?: string }) {
    super(message, { code: options?.code ?? 'CHAT_REJECTED' });
    this.status = options?.status;
    this.reason = options?.reason;
  }
}

/** Narrows a target to the adapter it was handed to; a mismatch is a wiring bug, not a vendor problem. */
export function expectTarget<K extends AdapterKind>(target: TargetConfig, kind: K): Extract<TargetConfig, { adapter: K }> {
  if (target.adapter !== kind) {
    throw new ChatRejectedError(`target '${target.name}' uses the ${target.adapter} adapter, not ${kind}`, { code: 'CHAT_WRONG_ADAPTER' });
  }
  return target as Extract<TargetConfig, { adapter: K }>;
}
