import { describe, expect, it } from 'vitest';
import { ValidationError, type EventContext, type JsonValue } from '@reflex/model';
import { compileCriteria, criteriaProblems, CRITERIA_LIMITS, KNOWN_OPERATIONS, validateCriteria } from './criteria.ts';

const ctx = (payload: JsonValue): EventContext => ({
  payload,
  event: { id: 'evt-1', type: 'core.webhook', source: 'webhook', occurredAt: '2024-05-01T12:00:00Z', traceId: 't-1' },
});

function fields(criteria: unknown): string[] {
  return criteriaProblems(criteria).map((d) => d.field);
}

function nest(depth: number): JsonValue {
  let node: JsonValue = { var: 'payload.x' };
  for (let i = 1; i < depth; i += 1) node = { '!': node };
  return node;
}

describe('validateCriteria', () => {
  it('accepts json-logic built-ins and Reflex operators', () => {
    expect(() =>
      validateCriteria({
        and: [
          { '==': [{ var: 'payload.severity' }, 'critical'] },
          { if: [{ missing: ['payload.a', 'payload.b'] }, false, true] },
          { missing_some: [1, ['payload.c', 'payload.d']] },
          { some: [{ var: 'payload.items' }, { '>': [{ var: 'n' }, 1] }] },
          { reduce: [{ var: 'payload.items' }, { '+': [{ var: 'current.n' }, { var: 'accumulator' }] }, 0] },
          { regex: [{ var: 'payload.host' }, '^web-\\d+$'] },
          { glob: [{ var: 'payload.host' }, 'web-*'] },
          { exists: 'payload.ticket' },
          { '<': [{ timediff: { var: 'event.occurredAt' } }, 60] },
          { var: ['payload.flag', { var: 'payload.fallback' }] },
          { var: 1 },
        ],
      }),
    ).not.toThrow();
  });

  it('names the place of a forbidden path, rooted at criteria', () => {
    expect(fields({ and: [true, { '>': [{ var: 'payload.__proto__.polluted' }, 1] }] })).toEqual(['criteria.and.1.>.0.var']);
    expect(fields({ var: ['payload.constructor', 1] })).toEqual(['criteria.var.0']);
    expect(fields({ var: 'payload.x.prototype' })).toEqual(['criteria.var']);
    expect(fields({ missing: ['a', 'b.__proto__'] })).toEqual(['criteria.missing.1']);
    expect(fields({ missing: [['a', 'constructor']] })).toEqual(['criteria.missing.0.1']);
    expect(fields({ missing: 'prototype' })).toEqual(['criteria.missing']);
    expect(fields({ missing_some: [1, ['ok', '__proto__']] })).toEqual(['criteria.missing_some.1.1']);
    expect(fields({ exists: 'payload.__proto__' })).toEqual(['criteria.exists']);
    expect(fields({ some: [{ var: 'payload.items' }, { var: 'constructor' }] })).toEqual(['criteria.some.1.var']);
  });

  it('refuses computed paths, so no path escapes the check', () => {
    expect(fields({ var: { cat: ['payload.', '__proto__'] } })).toEqual(['criteria.var']);
    expect(fields({ missing_some: [1, { merge: [['a']] }] })).toEqual(['criteria.missing_some.1']);
    expect(fields({ exists: { var: 'payload.path' } })).toEqual(['criteria.exists']);
  });

  it('names an unknown operator', () => {
    const problems = criteriaProblems({ or: [{ '==': [1, 1] }, { frobnicate: [1] }] });
    expect(problems).toEqual([{ field: 'criteria.or.1.frobnicate', message: "unknown operator 'frobnicate'" }]);
    expect(fields({ 'var.call': ['x'] })).toEqual(['criteria.var.call']);
    expect(criteriaProblems({ log: 'x' })[0]?.message).toMatch(/unknown operator 'log'.*disabled/);
    expect(KNOWN_OPERATIONS.has('log')).toBe(false);
  });

  it('refuses objects that are not one operation', () => {
    expect(criteriaProblems({ and: [{ a: 1, b: 2 }] })).toEqual([
      { field: 'criteria.and.0', message: "an operation is an object with exactly one operator key, got 'a', 'b'" },
    ]);
    expect(fields({ '==': [{}, 1] })).toEqual(['criteria.==.0']);
  });

  it('compiles literal regex and glob patterns in RE2 syntax', () => {
    expect(fields({ regex: [{ var: 'payload.x' }, '(?<=a)b'] })).toEqual(['criteria.regex.1']);
    expect(fields({ iregex: [{ var: 'payload.x' }, '(a'] })).toEqual(['criteria.iregex.1']);
    expect(fields({ glob: [{ var: 'payload.x' }, 'x'.repeat(1_001)] })).toEqual(['criteria.glob.1']);
    expect(fields({ regex: [{ var: 'payload.x' }, { var: 'payload.pattern' }] })).toEqual([]);
  });

  it('limits nesting depth and size', () => {
    expect(fields(nest(CRITERIA_LIMITS.maxDepth))).toEqual([]);
    expect(criteriaProblems(nest(CRITERIA_LIMITS.maxDepth + 1))[0]?.message).toMatch(/deeper than 32/);
    const wide = { and: Array.from({ length: 1_500 }, () => ({ '==': [1, 1] })) };
    expect(criteriaProblems(wide)).toEqual([{ field: 'criteria', message: 'has more than 2000 nodes' }]);
  });

  it('stops on cyclic input instead of overflowing', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic['!'] = cyclic;
    expect(criteriaProblems(cyclic).length).toBeGreaterThan(0);
  });

  it('throws one ValidationError listing every problem', () => {
    try {
      validateCriteria({ and: [{ nope: 1 }, { var: '__proto__' }] });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).message).toBe("criteria is invalid: criteria.and.0.nope unknown operator 'nope'");
      expect((err as ValidationError).details).toHaveLength(2);
    }
  });

  it('refuses non-JSON values', () => {
    expect(fields({ '==': [Number.NaN, 1] })).toEqual(['criteria.==.0']);
    expect(fields({ '==': [new Date(), 1] })).toEqual(['criteria.==.0']);
  });
});

describe('compileCriteria / evaluate', () => {
  it('treats absent, null and {} as "every event"', () => {
    for (const none of [undefined, null, {}]) {
      const c = compileCriteria(none as JsonValue | undefined);
      expect(c.always).toBe(true);
      expect(c.evaluate(ctx({}))).toEqual({ matched: true });
    }
  });

  it('evaluates over { payload, event } with json-logic truthiness', () => {
    const c = compileCriteria({
      and: [{ '==': [{ var: 'payload.severity' }, 'critical'] }, { '==': [{ var: 'event.source' }, 'webhook'] }],
    });
    expect(c.evaluate(ctx({ severity: 'critical' }))).toEqual({ matched: true });
    expect(c.evaluate(ctx({ severity: 'low' }))).toEqual({ matched: false });
    expect(compileCriteria({ var: 'payload.list' }).evaluate(ctx({ list: [] })).matched).toBe(false);
    expect(compileCriteria({ var: 'payload.list' }).evaluate(ctx({ list: [0] })).matched).toBe(true);
    expect(compileCriteria({ var: 'payload.s' }).evaluate(ctx({ s: '0' })).matched).toBe(true);
    expect(compileCriteria({ var: 'payload.s' }).evaluate(ctx({ s: '' })).matched).toBe(false);
  });

  it('turns an evaluation error into "not matched" with the reason', () => {
    const c = compileCriteria({ regex: [{ var: 'payload.host' }, '^web'] });
    const result = c.evaluate(ctx({ host: { name: 'web-1' } }));
    expect(result.matched).toBe(false);
    expect(result.error).toEqual({
      name: 'CriteriaError',
      code: 'CRITERIA_EVALUATION_FAILED',
      message: 'criteria evaluation failed: regex: the value must be a string, got object',
    });
    const computed = compileCriteria({ regex: [{ var: 'payload.host' }, { var: 'payload.pattern' }] });
    expect(computed.evaluate(ctx({ host: 'x', pattern: '(' })).error?.message).toMatch(/RE2/);
  });

  it('takes the clock per evaluation', () => {
    const c = compileCriteria({ '<': [{ timediff: { var: 'payload.at' } }, 60] });
    const at = { at: '2024-05-01T11:59:30Z' };
    expect(c.evaluate(ctx(at), { now: () => Date.parse('2024-05-01T12:00:00Z') }).matched).toBe(true);
    expect(c.evaluate(ctx(at), { now: () => Date.parse('2024-05-01T13:00:00Z') }).matched).toBe(false);
    expect(c.evaluate(ctx(at)).matched).toBe(false);
  });

  it('does not let criteria reach prototypes of the context', () => {
    expect(() => compileCriteria({ var: 'payload.__proto__' })).toThrow(ValidationError);
  });
});
