/** How an action's policies turn into decisions: concurrency keys, retry eligibility, backoff. */
import type { ActionPolicies, ExecutionRequest, ExecutionStatus } from '@reflex/model';

/** The slot key of a request under a concurrency policy, or undefined when it has none. */
export function concurrencyKey(request: ExecutionRequest): string | undefined {
  const policy = request.policies?.concurrency;
  if (policy === undefined) return undefined;
  if (policy.by === undefined) return request.action;
  return `${request.action}|${policy.by}=${JSON.stringify(request.parameters[policy.by] ?? null)}`;
}

/** Whether an attempt that ended in `outcome` gets another attempt. */
export function shouldRetry(policies: ActionPolicies | undefined, outcome: ExecutionStatus, attempt: number): boolean {
  const retry = policies?.retry;
  if (retry === undefined) return false;
  const on = retry.on ?? ['failed'];
  return (on as string[]).includes(outcome) && attempt < retry.maxAttempts;
}

/** Delay before attempt `attempt + 1`: doubling from delayMs, capped, with full jitter by default. */
export function retryDelayMs(policies: ActionPolicies | undefined, attempt: number, random: () => number = Math.random): number {
  const retry = policies?.retry;
  if (retry === undefined) return 0;
  const base = retry.delayMs ?? 1000;
  const cap = retry.maxDelayMs ?? Math.max(base, 60_000);
  const delay = Math.min(cap, base * 2 ** Math.max(0, attempt - 1));
  return retry.jitter === false ? delay : Math.round(random() * delay);
}

/** The result as stored: within `maxBytes` of JSON, or a marked preview of it. */
export function capResult<T>(result: T, maxBytes: number): T | { truncated: true; originalBytes: number; preview: string } {
  const json = JSON.stringify(result ?? null);
  const bytes = Buffer.byteLength(json);
  if (bytes <= maxBytes) return result;
  return { truncated: true, originalBytes: bytes, preview: json.slice(0, Math.max(0, maxBytes - 200)) };
}
