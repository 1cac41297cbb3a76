/**
 * A seeded, realistic corpus of alerting rules and events, shared by the rule-matching benchmark
 * (test/bench/matching.bench.ts) and the evaluator's differential test.
 *
 * Rules listen to one of a few webhooks (`alertmanager`, `grafana`, `zabbix`, `custom`) and mix:
 *   40 % alert name and host equality          {"and": [{"==": name}, {"==": host}]}
 *   20 % alert name and a numeric threshold    {"and": [{"==": name}, {">": [value, T]}]}
 *   15 % alert name and a tag                  {"and": [{"==": name}, {"in": [tag, tags]}]}
 *   15 % alert name and nested or/and          {"and": [{"==": name}, {"or": [severity, {"and": [>=, in env]}]}]}
 *    9 % host equality and a severity list     {"and": [{"==": host}, {"in": [severity, [...]]}]}
 *    1 % catch-alls with no equality at all    {"and": [{">=": [value, 90–99]}, {"or": [{"in": [tag, tags]}, {"==": severity}]}]}
 * Alert names: one for every 10 rules (at least 5); hosts: one for every 5 rules (at least 20).
 * Events carry a name from a pool 25 % larger than the rules use, so some match nothing.
 */
import type { Rule } from '@reflex/model';

/** mulberry32: a small, fast, seeded PRNG, so every run sees the same corpus. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const WEBHOOKS = ['alertmanager', 'grafana', 'zabbix', 'custom'] as const;
export const TAGS = ['prod', 'staging', 'web', 'db', 'cache', 'pci', 'eu', 'us', 'k8s', 'vm'] as const;
export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export const ENVS = ['prod', 'staging', 'dev'] as const;

export type RuleKind = 'name-host' | 'name-threshold' | 'name-tag' | 'name-nested' | 'host-severity' | 'catch-all';

export interface AlertCorpusRule {
  kind: RuleKind;
  rule: Rule;
  /** The same condition as flat facts, for engines that take them (json-rules-engine). */
  flat: FlatCondition;
}

/** A condition over the flat facts of an alert (url, alertname, host, value, severity, env, tags). */
export type FlatCondition =
  | { all: FlatCondition[] }
  | { any: FlatCondition[] }
  | { fact: FlatFact; operator: 'equal' | 'greaterThan' | 'greaterThanInclusive' | 'in' | 'contains'; value: string | number | string[] };

export type FlatFact = 'url' | 'alertname' | 'host' | 'value' | 'severity' | 'env' | 'tags';

export interface AlertBody {
  alertname: string;
  host: string;
  value: number;
  severity: string;
  env: string;
  tags: string[];
  summary: string;
}

export interface AlertCorpusEvent {
  url: string;
  body: AlertBody;
}

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)]!;
}

function sizes(ruleCount: number): { names: number; hosts: number } {
  return { names: Math.max(5, Math.ceil(ruleCount / 10)), hosts: Math.max(20, Math.ceil(ruleCount / 5)) };
}

const v = (name: string) => ({ var: `payload.body.${name}` });

/** `count` rules, the same for the same seed. */
export function alertRules(count: number, seed = 1): AlertCorpusRule[] {
  const rand = prng(seed);
  const { names, hosts } = sizes(count);
  const out: AlertCorpusRule[] = [];
  const created = '2024-05-01T00:00:00.000Z';
  for (let i = 0; i < count; i += 1) {
    const url = pick(rand, WEBHOOKS);
    const alertname = `alert-${Math.floor(rand() * names)}`;
    const host = `host-${Math.floor(rand() * hosts)}`;
    const threshold = 50 + Math.floor(rand() * 50);
    const tag = pick(rand, TAGS);
    const roll = rand();
    const nameEq = { '==': [v('alertname'), alertname] };
    let kind: RuleKind;
    let criteria: Rule['criteria'];
    let flat: FlatCondition;
    const flatName: FlatCondition = { fact: 'alertname', operator: 'equal', value: alertname };
    if (roll < 0.4) {
      kind = 'name-host';
      criteria = { and: [nameEq, { '==': [v('host'), host] }] };
      flat = { all: [flatName, { fact: 'host', operator: 'equal', value: host }] };
    } else if (roll < 0.6) {
      kind = 'name-threshold';
      criteria = { and: [nameEq, { '>': [v('value'), threshold] }] };
      flat = { all: [flatName, { fact: 'value', operator: 'greaterThan', value: threshold }] };
    } else if (roll < 0.75) {
      kind = 'name-tag';
      criteria = { and: [nameEq, { in: [tag, v('tags')] }] };
      flat = { all: [flatName, { fact: 'tags', operator: 'contains', value: tag }] };
    } else if (roll < 0.9) {
      kind = 'name-nested';
      criteria = {
        and: [
          nameEq,
          { or: [{ '==': [v('severity'), 'critical'] }, { and: [{ '>=': [v('value'), threshold] }, { in: [v('env'), ['prod', 'staging']] }] }] },
        ],
      };
      flat = {
        all: [
          flatName,
          {
            any: [
              { fact: 'severity', operator: 'equal', value: 'critical' },
              { all: [{ fact: 'value', operator: 'greaterThanInclusive', value: threshold }, { fact: 'env', operator: 'in', value: ['prod', 'staging'] }] },
            ],
          },
        ],
      };
    } else if (roll < 0.99) {
      kind = 'host-severity';
      criteria = { and: [{ '==': [v('host'), host] }, { in: [v('severity'), ['warning', 'critical']] }] };
      flat = { all: [{ fact: 'host', operator: 'equal', value: host }, { fact: 'severity', operator: 'in', value: ['warning', 'critical'] }] };
    } else {
      kind = 'catch-all';
      const high = 90 + (threshold % 10);
      criteria = { and: [{ '>=': [v('value'), high] }, { or: [{ in: [tag, v('tags')] }, { '==': [v('severity'), 'critical'] }] }] };
      flat = {
        all: [
          { fact: 'value', operator: 'greaterThanInclusive', value: high },
          { any: [{ fact: 'tags', operator: 'contains', value: tag }, { fact: 'severity', operator: 'equal', value: 'critical' }] },
        ],
      };
    }
    const name = `r${i}`;
    out.push({
      kind,
      flat: { all: [{ fact: 'url', operator: 'equal', value: url }, flat] },
      rule: {
        ref: `bench.${name}`,
        pack: 'bench',
        name,
        enabled: true,
        trigger: { type: 'core.webhook', parameters: { url } },
        criteria,
        action: { ref: 'core.noop', parameters: { host: '{{ payload.body.host }}' } },
        source: 'api',
        createdAt: created,
        updatedAt: created,
      },
    });
  }
  return out;
}

/** `count` events for a corpus of `ruleCount` rules, the same for the same seed. */
export function alertEvents(count: number, ruleCount: number, seed = 2): AlertCorpusEvent[] {
  const rand = prng(seed);
  const { names, hosts } = sizes(ruleCount);
  const out: AlertCorpusEvent[] = [];
  for (let i = 0; i < count; i += 1) {
    const tags = TAGS.filter(() => rand() < 0.25);
    const alertname = `alert-${Math.floor(rand() * names * 1.25)}`;
    const host = `host-${Math.floor(rand() * hosts)}`;
    out.push({
      url: pick(rand, WEBHOOKS),
      body: {
        alertname,
        host,
        value: Math.round(rand() * 1000) / 10,
        severity: pick(rand, SEVERITIES),
        env: pick(rand, ENVS),
        tags,
        summary: `${alertname} on ${host}`,
      },
    });
  }
  return out;
}
