/**
 * Bus names shared by every service. Streams are created by whoever starts first
 * (idempotent `ensureStream`); `prefix` lets tests and tenants own their own names.
 */
export interface BusNames {
  eventsStream: string;
  /** `<prefix>.events.<trigger type>`: one subject per trigger type. */
  eventSubject: (triggerType: string) => string;
  eventsWildcard: string;
  executionsStream: string;
  /** `<prefix>.executions.<runner>`: each runner consumes its own subject. */
  executionSubject: (runner: string) => string;
  executionsWildcard: string;
  /** Non-durable notifications (rule/pack changes, execution updates for live streams). */
  controlSubject: (topic: string) => string;
}

export function busNames(prefix = 'reflex'): BusNames {
  const upper = prefix.toUpperCase().replace(/[^A-Z0-9_-]/g, '_');
  return {
    eventsStream: `${upper}_EVENTS`,
    eventSubject: (type) => `${prefix}.events.${type.replace('.', '_')}`,
    eventsWildcard: `${prefix}.events.>`,
    executionsStream: `${upper}_EXECUTIONS`,
    executionSubject: (runner) => `${prefix}.executions.${runner}`,
    executionsWildcard: `${prefix}.executions.>`,
    controlSubject: (topic) => `${prefix}.control.${topic}`,
  };
}
