import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { eventContext, ValidationError, type JsonObject, type JsonValue, type ReflexEvent, type Rule } from '@reflex/model';
import { compileRule } from './compile.ts';
import { equalityPredicates, literalKeys, valueKeys } from './equality.ts';
import { RuleSet } from './rule-set.ts';
import { triggerParametersMatch } from './trigger.ts';

function rule(ref: string, over: Partial<Rule> = {}): Rule {
  const [pack = 'demo', name = 'r'] = ref.split('.');
  return {
    ref,
    pack,
    name,
    enabled: true,
    trigger: { type: 'core.webhook' },
    action: { ref: 'core.echo', parameters: { message: '{{ payload.msg | default: "hi" }}' } },
    source: 'api',
    createdAt: '2024-05-01T00:00:00Z',
    updatedAt: '2024-05-01T00:00:00Z',
    ...over,
  };
}

let seq = 0;
function event(over: Partial<ReflexEvent> = {}): ReflexEvent {
  seq += 1;
  return {
    id: `evt-${seq}`,
    type: 'core.webhook',
    source: 'webhook',
    payload: {},
    occurredAt: '2024-05-01T12:00:00Z',
    traceId: `trace-${seq}`,
    ...over,
  };
}

const refs = (rules: { ref: string }[]): string[] => rules.map((r) => r.ref);

describe('RuleSet basics', () => {
  it('upserts, replaces, gets and removes', () => {
    const set = new RuleSet();
    const first = set.upsert(rule('demo.a'));
    expect(set.size).toBe(1);
    expect(set.get('demo.a')).toBe(first);
    const second = set.upsert(rule('demo.a', { trigger: { type: 'core.interval' } }));
    expect(set.size).toBe(1);
    expect(set.get('demo.a')).toBe(second);
    expect(refs(set.candidates(event()))).toEqual([]);
    expect(refs(set.candidates(event({ type: 'core.interval' })))).toEqual(['demo.a']);
    expect(set.remove('demo.a')).toBe(true);
    expect(set.remove('demo.a')).toBe(false);
    expect(set.size).toBe(0);
    expect(set.candidates(event({ type: 'core.interval' }))).toEqual([]);
  });

  it('keeps the previous version when an upsert is invalid', () => {
    const set = new RuleSet();
    set.upsert(rule('demo.a'));
    expect(() => set.upsert(rule('demo.a', { criteria: { nope: 1 } }))).toThrow(ValidationError);
    expect(refs(set.candidates(event()))).toEqual(['demo.a']);
  });

  it('holds disabled rules but never offers them', () => {
    const set = new RuleSet();
    set.upsert(rule('demo.off', { enabled: false }));
    expect(set.size).toBe(1);
    expect(set.candidates(event())).toEqual([]);
    set.upsert(rule('demo.off', { enabled: true }));
    expect(refs(set.candidates(event()))).toEqual(['demo.off']);
    set.upsert(rule('demo.off', { enabled: false }));
    expect(set.candidates(event())).toEqual([]);
  });
});

describe('trigger index', () => {
  const set = new RuleSet();
  set.upsert(rule('demo.any'));
  set.upsert(rule('demo.empty', { trigger: { type: 'core.webhook', parameters: {} } }));
  set.upsert(rule('demo.alerts', { trigger: { type: 'core.webhook', parameters: { url: 'alerts' } } }));
  set.upsert(rule('demo.prod', { trigger: { type: 'core.webhook', parameters: { url: 'alerts', env: 'prod' } } }));
  set.upsert(rule('demo.deep', { trigger: { type: 'core.webhook', parameters: { opts: { b: [1, 2], a: 1 } } } }));
  set.upsert(rule('demo.timer', { trigger: { type: 'core.interval', parameters: { every: 60 } } }));

  it('offers a rule only for events of its type whose parameters include its own', () => {
    expect(refs(set.candidates(event()))).toEqual(['demo.any', 'demo.empty']);
    expect(refs(set.candidates(event({ triggerParameters: { url: 'alerts' } })))).toEqual(['demo.alerts', 'demo.any', 'demo.empty']);
    expect(refs(set.candidates(event({ triggerParameters: { env: 'prod', url: 'alerts', x: 1 } })))).toEqual([
      'demo.alerts',
      'demo.any',
      'demo.empty',
      'demo.prod',
    ]);
    expect(refs(set.candidates(event({ triggerParameters: { url: 'deploys' } })))).toEqual(['demo.any', 'demo.empty']);
    expect(refs(set.candidates(event({ triggerParameters: { opts: { a: 1, b: [1, 2] } } })))).toContain('demo.deep');
    expect(refs(set.candidates(event({ triggerParameters: { opts: { a: 1, b: [2, 1] } } })))).not.toContain('demo.deep');
    expect(refs(set.candidates(event({ type: 'core.interval', triggerParameters: { every: 60 } })))).toEqual(['demo.timer']);
    expect(refs(set.candidates(event({ type: 'core.interval', triggerParameters: { every: '60' } })))).toEqual([]);
    expect(set.candidates(event({ type: 'nobody.listens' }))).toEqual([]);
  });
});

describe('equality index', () => {
  it('offers only the rules whose equality predicates the payload satisfies, plus the rest', () => {
    const set = new RuleSet();
    set.upsert(rule('demo.crit', { criteria: { '==': [{ var: 'payload.severity' }, 'critical'] } }));
    set.upsert(
      rule('demo.crit-web', {
        criteria: { and: [{ '==': [{ var: 'payload.severity' }, 'critical'] }, { startsWith: [{ var: 'payload.host' }, 'web'] }] },
      }),
    );
    set.upsert(rule('demo.warn', { criteria: { and: [{ '==': ['warning', { var: 'payload.severity' }] }] } }));
    set.upsert(rule('demo.code', { criteria: { '===': [{ var: 'payload.code' }, 503] } }));
    set.upsert(rule('demo.other', { criteria: { '>': [{ var: 'payload.n' }, 1] } }));

    const crit = event({ payload: { severity: 'critical', host: 'web-1' } });
    expect(refs(set.candidates(crit))).toEqual(['demo.crit', 'demo.crit-web', 'demo.other']);
    expect(refs(set.match(crit).filter((r) => r.matched).map((r) => r.rule))).toEqual(['demo.crit', 'demo.crit-web']);
    expect(refs(set.candidates(event({ payload: { severity: 'warning' } })))).toEqual(['demo.other', 'demo.warn']);
    expect(refs(set.candidates(event({ payload: { code: 503 } })))).toEqual(['demo.code', 'demo.other']);
    expect(refs(set.candidates(event({ payload: { code: '503' } })))).toEqual(['demo.other']);
    expect(refs(set.candidates(event({ payload: 'just text' })))).toEqual(['demo.other']);
  });

  it('looks up only what can match, however many rules there are', () => {
    const set = new RuleSet();
    for (let i = 0; i < 5_000; i += 1) {
      set.upsert(
        rule(`bulk.r${i}`, {
          trigger: { type: 'core.webhook', parameters: { url: `hook-${i % 10}` } },
          criteria: { and: [{ '==': [{ var: 'payload.service' }, `svc-${i}`] }, { '>': [{ var: 'payload.n' }, 0] }] },
        }),
      );
    }
    const e = event({ triggerParameters: { url: 'hook-3' }, payload: { service: 'svc-1233', n: 1 } });
    expect(refs(set.candidates(e))).toEqual(['bulk.r1233']);
    expect(set.candidates(event({ triggerParameters: { url: 'hook-4' }, payload: { service: 'svc-1233' } }))).toEqual([]);
    for (let i = 0; i < 5_000; i += 2) set.remove(`bulk.r${i}`);
    expect(set.size).toBe(2_500);
    expect(refs(set.candidates(e))).toEqual(['bulk.r1233']);
    expect(set.candidates(event({ triggerParameters: { url: 'hook-2' }, payload: { service: 'svc-1232' } }))).toEqual([]);
  });

  it('follows json-logic loose equality', () => {
    const set = new RuleSet();
    set.upsert(rule('demo.five', { criteria: { '==': [{ var: 'payload.n' }, 5] } }));
    set.upsert(rule('demo.five-text', { criteria: { '==': [{ var: 'payload.n' }, '5'] } }));
    set.upsert(rule('demo.true', { criteria: { '==': [{ var: 'payload.n' }, true] } }));
    const matched = (payload: JsonValue): string[] =>
      refs(set.match(event({ payload })).filter((r) => r.matched).map((r) => r.rule));
    expect(matched({ n: 5 })).toEqual(['demo.five', 'demo.five-text']);
    expect(matched({ n: '5' })).toEqual(['demo.five', 'demo.five-text']);
    expect(matched({ n: ' 5.0 ' })).toEqual(['demo.five']);
    expect(matched({ n: [5] })).toEqual(['demo.five', 'demo.five-text']);
    expect(matched({ n: 1 })).toEqual(['demo.true']);
    expect(matched({ n: '1' })).toEqual(['demo.true']);
  });

  it('reports evaluation errors of candidates', () => {
    const set = new RuleSet();
    set.upsert(rule('demo.re', { criteria: { regex: [{ var: 'payload.host' }, '^web'] } }));
    const [result] = set.match(event({ payload: { host: ['web'] } }));
    expect(result?.matched).toBe(false);
    expect(result?.error?.code).toBe('CRITERIA_EVALUATION_FAILED');
  });

  it('extracts predicates only where every match needs them', () => {
    expect(equalityPredicates({ and: [{ '==': [{ var: 'payload.a' }, 'x'] }, { and: [{ '===': [1, { var: 'payload.b' }] }] }] })).toEqual([
      { path: 'payload.a', operator: '==', literal: 'x', keys: ['s:x'] },
      { path: 'payload.b', operator: '===', literal: 1, keys: ['N:1'] },
    ]);
    expect(equalityPredicates({ or: [{ '==': [{ var: 'payload.a' }, 'x'] }] })).toEqual([]);
    expect(equalityPredicates({ '!': { '==': [{ var: 'payload.a' }, 'x'] } })).toEqual([]);
    expect(equalityPredicates({ '==': [{ var: ['payload.a', 'x'] }, 'x'] })).toEqual([]);
    expect(equalityPredicates({ '==': [{ var: 'payload.a' }, null] })).toEqual([]);
    expect(equalityPredicates({ '==': [{ var: 'payload.a' }, { var: 'payload.b' }] })).toEqual([]);
  });
});

// ---- property tests -------------------------------------------------------------------------

const primitives: JsonValue[] = ['x', 'y', '1', '5', '', ' 5 ', '0x5', '1e0', 'true', '[object Object]', '1,2', 1, 5, 0, -0, 0.5, true, false];
const literal = fc.constantFrom(...(primitives as Array<string | number | boolean>));
const payloadValue: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.constantFrom<JsonValue>(...primitives, null, {}, [], [1, 2], [5], ['x'], [[1], 2], { toString: 'x' }, [null]),
  fc.string({ maxLength: 3 }),
  fc.integer({ min: -2, max: 6 }),
);

describe('equality keys', () => {
  it('share a key whenever json-logic would find the values equal', () => {
    fc.assert(
      fc.property(fc.oneof(payloadValue, fc.jsonValue({ maxDepth: 2 }) as fc.Arbitrary<JsonValue>), literal, (value, lit) => {
        let loose = false;
        try {
          // Loose equality on purpose: it is what json-logic-js's `==` does.
          // eslint-disable-next-line eqeqeq
          loose = (value as unknown) == lit;
        } catch {
          loose = false;
        }
        const keys = new Set(valueKeys(value));
        const shared = (op: '==' | '===') => literalKeys(op, lit).filter((k) => keys.has(k)).length;
        if (loose) expect(shared('==')).toBe(1);
        if (value === lit) expect(shared('===')).toBe(1);
      }),
      { numRuns: 3_000 },
    );
  });
});

const paths = ['payload.a', 'payload.b', 'payload.n', 'payload.obj.k', 'event.source'];
const path = fc.constantFrom(...paths);
const varNode = path.map((p) => ({ var: p }));
const eq: fc.Arbitrary<JsonValue> = fc
  .tuple(fc.constantFrom('==', '===', '!='), varNode, literal, fc.boolean())
  .map(([op, v, lit, flip]) => ({ [op]: flip ? [lit, v] : [v, lit] }));
const other: fc.Arbitrary<JsonValue> = fc.oneof(
  literal.map((lit) => ({ '>': [{ var: 'payload.n' }, lit] })),
  fc.constantFrom<JsonValue>(
    { regex: [{ var: 'payload.a' }, '^x'] },
    { in: ['x', { var: 'payload.b' }] },
    { exists: 'payload.obj' },
    { iequals: [{ var: 'payload.a' }, 'X'] },
    { var: 'payload.a' },
    true,
    false,
  ),
);
const leaf = fc.oneof(eq, eq, other);
const criteria: fc.Arbitrary<JsonValue | undefined> = fc.oneof(
  fc.constant(undefined),
  leaf,
  fc.array(fc.oneof(leaf, fc.array(leaf, { minLength: 1, maxLength: 2 }).map((xs) => ({ and: xs }))), { minLength: 1, maxLength: 4 }).map((xs) => ({ and: xs })),
  fc.array(leaf, { minLength: 1, maxLength: 3 }).map((xs) => ({ or: xs })),
  leaf.map((x) => ({ '!': x })),
);
const triggerParams = fc.constantFrom<JsonObject | undefined>(undefined, {}, { url: 'alerts' }, { url: 'deploys' }, { url: 'alerts', env: 'prod' }, { url: 1 }, { o: { a: [1, 2] } });
const ruleRef = fc.constantFrom('p.r0', 'p.r1', 'p.r2', 'p.r3', 'p.r4', 'p.r5', 'p.r6', 'p.r7');
const ruleArb: fc.Arbitrary<Rule> = fc
  .record({
    ref: ruleRef,
    type: fc.constantFrom('core.webhook', 'core.interval'),
    parameters: triggerParams,
    criteria,
    enabled: fc.oneof(fc.constant(true), fc.constant(true), fc.constant(false)),
  })
  .map(({ ref, type, parameters, criteria: c, enabled }) => {
    const r = rule(ref, { enabled, trigger: parameters === undefined ? { type } : { type, parameters } });
    if (c !== undefined) r.criteria = c;
    return r;
  });
const command = fc.oneof(
  ruleArb.map((r) => ({ kind: 'upsert' as const, rule: r })),
  ruleArb.map((r) => ({ kind: 'upsert' as const, rule: r })),
  ruleRef.map((ref) => ({ kind: 'remove' as const, ref })),
);
const eventArb: fc.Arbitrary<ReflexEvent> = fc
  .record({
    type: fc.constantFrom('core.webhook', 'core.interval', 'other.type'),
    parameters: fc.constantFrom<JsonObject | undefined>(undefined, {}, { url: 'alerts' }, { url: 'alerts', env: 'prod', x: 1 }, { url: 'deploys' }, { url: '1' }, { o: { a: [1, 2] } }),
    source: fc.constantFrom('webhook', 'api'),
    a: fc.option(payloadValue, { nil: undefined }),
    b: fc.option(payloadValue, { nil: undefined }),
    n: fc.option(payloadValue, { nil: undefined }),
    obj: fc.option(fc.oneof(payloadValue, payloadValue.map((k) => ({ k }))), { nil: undefined }),
  })
  .map(({ type, parameters, source, a, b, n, obj }) => {
    const payload: JsonObject = {};
    if (a !== undefined) payload['a'] = a;
    if (b !== undefined) payload['b'] = b;
    if (n !== undefined) payload['n'] = n;
    if (obj !== undefined) payload['obj'] = obj;
    const e = event({ type, source, payload });
    if (parameters !== undefined) e.triggerParameters = parameters;
    return e;
  });

function naive(rules: Map<string, Rule>, e: ReflexEvent): string[] {
  const ctx = eventContext(e);
  return [...rules.values()]
    .filter((r) => r.enabled && r.trigger.type === e.type && triggerParametersMatch(r.trigger.parameters, e.triggerParameters))
    .filter((r) => compileRule(r).evaluate(ctx).matched)
    .map((r) => r.ref)
    .sort();
}

describe('index versus naive evaluation', () => {
  it('match() agrees with evaluating every rule, under any sequence of upserts and removes', () => {
    fc.assert(
      fc.property(fc.array(command, { maxLength: 30 }), fc.array(eventArb, { minLength: 1, maxLength: 8 }), (commands, events) => {
        const set = new RuleSet();
        const model = new Map<string, Rule>();
        for (const c of commands) {
          if (c.kind === 'upsert') {
            set.upsert(c.rule);
            model.set(c.rule.ref, c.rule);
          } else {
            expect(set.remove(c.ref)).toBe(model.delete(c.ref));
          }
        }
        expect(set.size).toBe(model.size);
        for (const e of events) {
          const candidates = refs(set.candidates(e));
          expect(new Set(candidates).size).toBe(candidates.length);
          const matched = refs(set.match(e).filter((r) => r.matched).map((r) => r.rule));
          expect(matched).toEqual(naive(model, e));
        }
      }),
      { numRuns: 4_000 },
    );
  });
});
