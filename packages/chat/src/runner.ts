/**
 * The `chat` runner: what the chat notifier does with a `chat.post` / `chat.update` execution.
 * It turns the action's parameters into a ChatMessage, delivers it through the Deliverer (retries,
 * Retry-After, circuit breakers) and returns the receipt. A vendor's refusal fails the execution
 * for good; a delivery that ran out of attempts fails with code CHAT_EXHAUSTED, which is what the
 * dead-letter list shows (and what its re-send re-runs).
 */
import { secretMasker } from '@reflex/auth';
import { NonRetriableError, ReflexError, type JsonObject, type JsonValue } from '@reflex/model';
import type { Runner } from '@reflex/runners';
import type { DeliveryReceipt } from './adapter.ts';
import type { Deliverer } from './delivery.ts';

export const CHAT_RUNNER = 'chat';
export const CHAT_EXHAUSTED = 'CHAT_EXHAUSTED';
export const CHAT_REJECTED = 'CHAT_REJECTED';

/** Where the first delivery of a thread is remembered, so `chat.update` can edit or reply to it. */
export interface ThreadReceipts {
  get(target: string, threadKey: string): Promise<DeliveryReceipt | undefined>;
  put(target: string, threadKey: string, receipt: DeliveryReceipt): Promise<void>;
}

/** Delivery ran out of attempts (or time, or found the target's circuit open). */
export class ChatExhaustedError extends ReflexError {
  constructor(message: string) {
    super(CHAT_EXHAUSTED, message);
  }
}

/** The action parameters (snake_case, as pack authors write them) as a message. */
function messageOf(parameters: JsonObject): Record<string, JsonValue> {
  const { target: _target, thread_key: threadKey, ...rest } = parameters;
  return threadKey === undefined ? rest : { ...rest, threadKey };
}

export function createChatRunner(options: { deliverer: Deliverer; threads: ThreadReceipts }): Runner {
  return {
    name: CHAT_RUNNER,
    async run(request, ctx) {
      const operation = request.action.endsWith('.update') ? 'update' : 'post';
      // A datastore secret a rule rendered into the message is never posted (the parameters are for the runner only).
      const message = request.secrets === undefined || request.secrets.length === 0 ? messageOf(request.parameters) : (secretMasker(request.secrets).mask(messageOf(request.parameters)) as Record<string, JsonValue>);
      const target = typeof request.parameters['target'] === 'string' ? request.parameters['target'] : undefined;
      const threadKey = typeof message['threadKey'] === 'string' ? message['threadKey'] : undefined;
      const known = threadKey === undefined ? undefined : await options.threads.get(target ?? '', threadKey);
      const outcome = await options.deliverer.deliver({
        ...(target === undefined ? {} : { target }),
        message,
        operation,
        ...(known === undefined ? {} : { receipt: known }),
        idempotencyKey: request.executionId,
        signal: ctx.signal,
      });
      if (outcome.status === 'failed-permanently') {
        throw new NonRetriableError(`${outcome.target} refused the message: ${outcome.error.message}`, { code: CHAT_REJECTED });
      }
      if (outcome.status === 'exhausted') {
        throw new ChatExhaustedError(`${outcome.target}: gave up after ${outcome.attempts} attempt(s) (${outcome.reason}): ${outcome.error.message}`);
      }
      // The first delivery of a thread is the one later updates edit or reply to.
      if (threadKey !== undefined && operation === 'post' && known === undefined) {
        await options.threads.put(target ?? '', threadKey, outcome.receipt);
      }
      return { target: outcome.target, attempts: outcome.attempts, receipt: outcome.receipt as unknown as JsonValue };
    },
  };
}
