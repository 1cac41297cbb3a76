/**
 * Every StackStorm criteria operator with its JSON-logic equivalent in Reflex: one example each,
 * with a payload it matches and one it does not. The unit tests evaluate every row, and a doc
 * test checks that docs/rules.md shows each example exactly as written here.
 */
import type { JsonValue } from '@reflex/model';

export interface StackStormOperatorExample {
  /** The StackStorm operator (`type:` in a StackStorm rule's criteria). */
  operator: string;
  /** The same condition as a StackStorm criteria entry, for the doc. */
  stackstorm: string;
  /** The Reflex criteria. */
  criteria: JsonValue;
  /** A payload the criteria matches, and one it does not. */
  matches: JsonValue;
  misses: JsonValue;
}

/** The clock the examples are evaluated at (for `timediff_lt` / `timediff_gt`). */
export const EXAMPLE_NOW = Date.parse('2024-05-01T12:00:00Z');

const status = { '==': [{ var: 'payload.status' }, 'open'] };

export const STACKSTORM_OPERATORS: readonly StackStormOperatorExample[] = [
  {
    operator: 'equals',
    stackstorm: 'trigger.status: {type: equals, pattern: open}',
    criteria: status,
    matches: { status: 'open' },
    misses: { status: 'closed' },
  },
  {
    operator: 'nequals',
    stackstorm: 'trigger.status: {type: nequals, pattern: closed}',
    criteria: { '!=': [{ var: 'payload.status' }, 'closed'] },
    matches: { status: 'open' },
    misses: { status: 'closed' },
  },
  {
    operator: 'iequals',
    stackstorm: 'trigger.status: {type: iequals, pattern: OPEN}',
    criteria: { iequals: [{ var: 'payload.status' }, 'OPEN'] },
    matches: { status: 'Open' },
    misses: { status: 'opened' },
  },
  {
    operator: 'contains',
    stackstorm: 'trigger.tags: {type: contains, pattern: prod}',
    criteria: { in: ['prod', { var: 'payload.tags' }] },
    matches: { tags: ['prod', 'web'] },
    misses: { tags: ['staging'] },
  },
  {
    operator: 'ncontains',
    stackstorm: 'trigger.tags: {type: ncontains, pattern: prod}',
    criteria: { '!': { in: ['prod', { var: 'payload.tags' }] } },
    matches: { tags: ['staging'] },
    misses: { tags: ['prod', 'web'] },
  },
  {
    operator: 'icontains',
    stackstorm: 'trigger.message: {type: icontains, pattern: error}',
    criteria: { icontains: [{ var: 'payload.message' }, 'error'] },
    matches: { message: 'Disk ERROR on /var' },
    misses: { message: 'all good' },
  },
  {
    operator: 'nicontains',
    stackstorm: 'trigger.message: {type: nicontains, pattern: error}',
    criteria: { '!': { icontains: [{ var: 'payload.message' }, 'error'] } },
    matches: { message: 'all good' },
    misses: { message: 'Disk ERROR on /var' },
  },
  {
    operator: 'startswith',
    stackstorm: 'trigger.host: {type: startswith, pattern: web-}',
    criteria: { startsWith: [{ var: 'payload.host' }, 'web-'] },
    matches: { host: 'web-01' },
    misses: { host: 'db-01' },
  },
  {
    operator: 'istartswith',
    stackstorm: 'trigger.host: {type: istartswith, pattern: WEB-}',
    criteria: { istartsWith: [{ var: 'payload.host' }, 'WEB-'] },
    matches: { host: 'web-01' },
    misses: { host: 'db-01' },
  },
  {
    operator: 'endswith',
    stackstorm: 'trigger.host: {type: endswith, pattern: .prod.example.com}',
    criteria: { endsWith: [{ var: 'payload.host' }, '.prod.example.com'] },
    matches: { host: 'web-01.prod.example.com' },
    misses: { host: 'web-01.dev.example.com' },
  },
  {
    operator: 'iendswith',
    stackstorm: 'trigger.file: {type: iendswith, pattern: .LOG}',
    criteria: { iendsWith: [{ var: 'payload.file' }, '.LOG'] },
    matches: { file: '/var/log/app.log' },
    misses: { file: '/var/log/app.gz' },
  },
  {
    operator: 'matchwildcard',
    stackstorm: "trigger.host: {type: matchwildcard, pattern: 'db-[0-9]*.prod'}",
    criteria: { glob: [{ var: 'payload.host' }, 'db-[0-9]*.prod'] },
    matches: { host: 'db-12.prod' },
    misses: { host: 'db-x.prod' },
  },
  {
    operator: 'regex',
    stackstorm: "trigger.host: {type: regex, pattern: 'web-\\d+$'}",
    criteria: { regex: [{ var: 'payload.host' }, '^web-\\d+$'] },
    matches: { host: 'web-42' },
    misses: { host: 'my-web-42' },
  },
  {
    operator: 'iregex',
    stackstorm: "trigger.message: {type: iregex, pattern: 'disk.*full'}",
    criteria: { iregex: [{ var: 'payload.message' }, '^disk.*full'] },
    matches: { message: 'DISK /var is FULL' },
    misses: { message: 'the disk is full' },
  },
  {
    operator: 'lt',
    stackstorm: 'trigger.free_gb: {type: lt, pattern: 10}',
    criteria: { '<': [{ var: 'payload.free_gb' }, 10] },
    matches: { free_gb: 3 },
    misses: { free_gb: 50 },
  },
  {
    operator: 'lessthan',
    stackstorm: 'trigger.latency_ms: {type: lessthan, pattern: 250}',
    criteria: { '<': [{ var: 'payload.latency_ms' }, 250] },
    matches: { latency_ms: 120 },
    misses: { latency_ms: 900 },
  },
  {
    operator: 'gt',
    stackstorm: 'trigger.cpu: {type: gt, pattern: 90}',
    criteria: { '>': [{ var: 'payload.cpu' }, 90] },
    matches: { cpu: 97.5 },
    misses: { cpu: 40 },
  },
  {
    operator: 'greaterthan',
    stackstorm: 'trigger.errors: {type: greaterthan, pattern: 0}',
    criteria: { '>': [{ var: 'payload.errors' }, 0] },
    matches: { errors: 2 },
    misses: { errors: 0 },
  },
  {
    operator: 'exists',
    stackstorm: 'trigger.ticket: {type: exists}',
    criteria: { exists: 'payload.ticket' },
    matches: { ticket: 'OPS-1' },
    misses: { other: 1 },
  },
  {
    operator: 'nexists',
    stackstorm: 'trigger.ticket: {type: nexists}',
    criteria: { '!': { exists: 'payload.ticket' } },
    matches: { other: 1 },
    misses: { ticket: 'OPS-1' },
  },
  {
    operator: 'inside',
    stackstorm: 'trigger.env: {type: inside, pattern: [prod, staging]}',
    criteria: { in: [{ var: 'payload.env' }, ['prod', 'staging']] },
    matches: { env: 'prod' },
    misses: { env: 'dev' },
  },
  {
    operator: 'ninside',
    stackstorm: 'trigger.env: {type: ninside, pattern: [prod, staging]}',
    criteria: { '!': { in: [{ var: 'payload.env' }, ['prod', 'staging']] } },
    matches: { env: 'dev' },
    misses: { env: 'prod' },
  },
  {
    operator: 'timediff_lt',
    stackstorm: 'trigger.created_at: {type: timediff_lt, pattern: 300}',
    criteria: {
      and: [
        { '!=': [{ timediff: { var: 'payload.created_at' } }, null] },
        { '<': [{ timediff: { var: 'payload.created_at' } }, 300] },
      ],
    },
    matches: { created_at: '2024-05-01T11:58:00Z' },
    misses: { created_at: '2024-05-01T10:00:00Z' },
  },
  {
    operator: 'timediff_gt',
    stackstorm: 'trigger.last_seen: {type: timediff_gt, pattern: 3600}',
    criteria: { '>': [{ timediff: { var: 'payload.last_seen' } }, 3600] },
    matches: { last_seen: 1714550400 },
    misses: { last_seen: '2024-05-01T11:30:00Z' },
  },
  {
    operator: 'search',
    stackstorm:
      'trigger.changes: {type: search, condition: any, pattern: {item.field: {type: equals, pattern: status}, item.to: {type: equals, pattern: approved}}}',
    criteria: {
      some: [
        { var: 'payload.changes' },
        { and: [{ '==': [{ var: 'field' }, 'status'] }, { '==': [{ var: 'to' }, 'approved'] }] },
      ],
    },
    matches: { changes: [{ field: 'owner', to: 'ann' }, { field: 'status', to: 'approved' }] },
    misses: { changes: [{ field: 'status', to: 'rejected' }] },
  },
];
