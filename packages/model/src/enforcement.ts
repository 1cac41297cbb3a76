import type { ErrorJson } from './errors.ts';
import type { DecisionWindow } from './noise.ts';

/**
 * The record that a rule matched an event and what it did about it. One per (event, rule):
 * its id is derived from both, so a redelivered event writes the same record again. A throttle
 * window or alert group that fires later has one per firing instead (`window` set, `eventId` the
 * last event it holds), its id derived from the rule, the window and the firing's sequence number.
 */
export interface Enforcement {
  id: string;
  eventId: string;
  rule: string;
  status: 'fired' | 'failed';
  executionId?: string;
  /** Why it failed (parameter template or schema error, unknown action). */
  error?: ErrorJson;
  /** Set when a throttle window or an alert group fired (rather than one event). */
  window?: DecisionWindow & { events: number };
  traceId: string;
  createdAt: string;
}
