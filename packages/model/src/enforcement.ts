import type { ErrorJson } from './errors.ts';

/**
 * The record that a rule matched an event and what it did about it. One per (event, rule):
 * its id is derived from both, so a redelivered event writes the same record again.
 */
export interface Enforcement {
  id: string;
  eventId: string;
  rule: string;
  status: 'fired' | 'failed';
  executionId?: string;
  /** Why it failed (parameter template or schema error, unknown action). */
  error?: ErrorJson;
  traceId: string;
  createdAt: string;
}
