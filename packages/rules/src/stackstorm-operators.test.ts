import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { EventContext, JsonValue, ReflexEvent, Rule } from '@reflex/model';
import { compileCriteria, validateCriteria } from './criteria.ts';
import { RuleSet } from './rule-set.ts';
import { EXAMPLE_NOW, STACKSTORM_OPERATORS } from './stackstorm-operators.ts';

/** Every operator StackStorm documents for rule criteria. */
const ALL_STACKSTORM_OPERATORS = [
  'equals', 'nequals', 'iequals', 'contains', 'ncontains', 'icontains', 'nicontains', 'startswith', 'istartswith',
  'endswith', 'iendswith', 'matchwildcard', 'regex', 'iregex', 'lt', 'lessthan', 'gt', 'greaterthan', 'exists',
  'nexists', 'inside', 'ninside', 'timediff_lt', 'timediff_gt', 'search',
];

const ctx = (payload: JsonValue): EventContext => ({
  payload,
  event: { id: 'evt-1', type: 'core.webhook', source: 'webhook', occurredAt: '2024-05-01T12:00:00Z', traceId: 't-1' },
});
const now = (): number => EXAMPLE_NOW;

describe('StackStorm operators in JSON-logic', () => {
  it('cover every StackStorm operator exactly once', () => {
    expect(STACKSTORM_OPERATORS.map((row) => row.operator).sort()).toEqual([...ALL_STACKSTORM_OPERATORS].sort());
  });

  describe.each(STACKSTORM_OPERATORS.map((row) => [row.operator, row] as const))('%s', (_name, row) => {
    it('is valid criteria', () => {
      expect(() => validateCriteria(row.criteria)).not.toThrow();
    });

    it('matches its example and not its counter-example', () => {
      const compiled = compileCriteria(row.criteria);
      expect(compiled.evaluate(ctx(row.matches), { now })).toEqual({ matched: true });
      expect(compiled.evaluate(ctx(row.misses), { now })).toEqual({ matched: false });
    });

    it('behaves the same through the rule index', () => {
      const rule: Rule = {
        ref: `st2.${row.operator}`,
        pack: 'st2',
        name: row.operator,
        enabled: true,
        trigger: { type: 'core.webhook' },
        criteria: row.criteria,
        action: { ref: 'core.echo' },
        source: 'api',
        createdAt: '',
        updatedAt: '',
      };
      const set = new RuleSet({ now });
      set.upsert(rule);
      const event = (payload: JsonValue): ReflexEvent => ({ ...ctx(payload).event, payload });
      expect(set.match(event(row.matches)).filter((r) => r.matched)).toHaveLength(1);
      expect(set.match(event(row.misses)).filter((r) => r.matched)).toHaveLength(0);
    });
  });

  it('timediff_lt does not match an unreadable timestamp', () => {
    const row = STACKSTORM_OPERATORS.find((r) => r.operator === 'timediff_lt')!;
    expect(compileCriteria(row.criteria).evaluate(ctx({ created_at: 'not a time' }), { now }).matched).toBe(false);
    expect(compileCriteria(row.criteria).evaluate(ctx({}), { now }).matched).toBe(false);
  });
});

describe('docs/rules.md', () => {
  const doc = readFileSync(new URL('../../../docs/rules.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## StackStorm operators'), doc.indexOf('## Action parameter templates'));

  it.each(STACKSTORM_OPERATORS.map((row) => [row.operator, row] as const))('shows the %s example as tested', (_name, row) => {
    const line = section.split('\n').find((l) => l.startsWith(`| \`${row.operator}\` |`));
    expect(line, `a table row for ${row.operator}`).toBeDefined();
    expect(line).toContain(`\`${JSON.stringify(row.criteria)}\``);
    expect(line).toContain(`\`${JSON.stringify(row.matches)}\``);
    expect(line).toContain(`\`${JSON.stringify(row.misses)}\``);
  });
});
