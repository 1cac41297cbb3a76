/**
 * Differential test: the compiled evaluator must agree with json-logic-js (the reference) on every
 * criteria and data of the corpus — same value (deep-equal) or the same error message — including
 * Reflex's own operators. Corpus: the StackStorm operator table, the docs' examples, the benchmark's
 * alert rules against its events, hand-picked edge cases of every built-in operator, and
 * generated criteria over generated data.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { alertEvents, alertRules } from '../test/alert-corpus.ts';
import { withClock } from './clock.ts';
import { compile } from './compiled-logic.ts';
import { KNOWN_OPERATIONS } from './criteria.ts';
import { jsonLogic } from './json-logic.ts';
import { EXAMPLE_NOW, STACKSTORM_OPERATORS } from './stackstorm-operators.ts';

type Outcome = { value: unknown } | { error: string };

const clock = () => EXAMPLE_NOW;

function outcome(run: () => unknown): Outcome {
  try {
    return { value: withClock(clock, run) };
  } catch (err) {
    return { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err) };
  }
}

/** Both evaluators on one criteria and data; fails with both outcomes when they differ. */
function agree(criteria: unknown, data: unknown): void {
  const reference = outcome(() => jsonLogic.apply(criteria, data));
  const compiled = compile(criteria);
  const fast = outcome(() => compiled(data));
  expect(fast, JSON.stringify({ criteria, data })).toEqual(reference);
}

const ctx = (payload: unknown) => ({
  payload,
  event: { id: 'e1', type: 'core.webhook', source: 'test', occurredAt: '2024-05-01T12:00:00.000Z', traceId: 't1' },
});

describe('compiled JSON-logic agrees with json-logic-js', () => {
  it('on every StackStorm operator example, matching and missing', () => {
    for (const example of STACKSTORM_OPERATORS) {
      agree(example.criteria, ctx(example.matches));
      agree(example.criteria, ctx(example.misses));
      agree(example.criteria, ctx({}));
      agree(example.criteria, ctx(null));
    }
  });

  it('on the benchmark corpus: 300 alert rules against 300 events', () => {
    const rules = alertRules(300, 7);
    const events = alertEvents(300, 300, 8);
    let matched = 0;
    for (const { rule } of rules) {
      const reference = (data: unknown) => jsonLogic.truthy(jsonLogic.apply(rule.criteria, data));
      const compiled = compile(rule.criteria);
      for (const event of events) {
        const data = ctx({ body: event.body, headers: {}, query: {} });
        const want = reference(data);
        expect(jsonLogic.truthy(compiled(data)), rule.ref).toBe(want);
        if (want) matched += 1;
      }
    }
    expect(matched).toBeGreaterThan(0); // the corpus exercises matches, not only misses
  });

  const payload = {
    status: 'open',
    n: 5,
    s: '5',
    zero: 0,
    empty: '',
    nul: null,
    t: true,
    f: false,
    tags: ['prod', 'web'],
    none: [],
    nested: { a: { b: 'deep' } },
    list: [{ field: 'status', to: 'approved' }, { field: 'owner', to: 'ann' }],
    host: 'web-01.prod.example.com',
    message: 'Disk ERROR on /var',
    created_at: '2024-05-01T11:58:00Z',
    obj: { x: 1 },
  };
  const p = (path: string) => ({ var: `payload.${path}` });

  const edgeCases: unknown[] = [
    // equality and its coercions
    { '==': [p('n'), '5'] },
    { '==': [p('s'), 5] },
    { '==': [p('t'), 1] },
    { '==': [p('nul'), null] },
    { '==': [p('missing'), null] },
    { '==': [p('obj'), '[object Object]'] },
    { '==': [p('tags'), 'prod,web'] },
    { '===': [p('n'), '5'] },
    { '!=': [p('zero'), ''] },
    { '!==': [p('zero'), false] },
    { '==': 5 },
    { '==': [] },
    { '==': [1, 1, { regex: [p('obj'), 'x'] }] }, // extra arguments are still evaluated (and may throw)
    // comparisons, two and three arguments
    { '>': [p('n'), 4] },
    { '>': [p('s'), '10'] },
    { '>=': [p('missing'), 0] },
    { '<': [1, p('n'), 10] },
    { '<': [1, p('n'), 3] },
    { '<=': [5, p('n'), 5] },
    { '<': [p('nul'), 1] },
    // truthiness and negation
    { '!': [p('none')] },
    { '!': p('empty') },
    { '!': [] },
    { '!!': [p('tags')] },
    { '!!': [[]] },
    { '!!': ['0'] },
    // and / or return the deciding value
    { and: [p('n'), p('s'), p('tags')] },
    { and: [p('n'), p('zero'), p('tags')] },
    { and: [] },
    { or: [p('zero'), p('empty'), p('none')] },
    { or: [p('zero'), p('status')] },
    { or: [] },
    { and: p('n') },
    { '==': [{ and: [1, 2] }, 2] },
    // if / ?:
    { if: [p('t'), 'yes', 'no'] },
    { if: [p('f'), 'yes', p('zero'), 'zero', 'else'] },
    { if: [p('f'), 'yes'] },
    { if: [] },
    { '?:': [p('n'), p('s'), 'no'] },
    // in: arrays, strings, and what is neither
    { in: ['prod', p('tags')] },
    { in: ['pro', p('status')] },
    { in: ['pen', p('status')] },
    { in: [p('status'), ['open', 'closed']] },
    { in: [p('n'), ['5', 6]] },
    { in: [p('n'), [5, 6]] },
    { in: ['x', p('missing')] },
    { in: ['x', p('n')] },
    { in: ['x', p('obj')] },
    { in: [p('tags'), [['prod', 'web']]] },
    // var: defaults, computed-looking paths, the whole scope, indexes
    { var: ['payload.missing', 'fallback'] },
    { var: ['payload.missing', { var: 'payload.status' }] },
    { var: 'payload.nested.a.b' },
    { var: 'payload.tags.1' },
    { var: 'payload.status.length' },
    { var: '' },
    { var: [] },
    { var: null },
    { var: 0 },
    { var: ['payload.nul', 'd'] },
    { var: ['payload.n', 'd', { icontains: [1, {}] }] },
    // iterators
    { some: [p('list'), { and: [{ '==': [{ var: 'field' }, 'status'] }, { '==': [{ var: 'to' }, 'approved'] }] }] },
    { all: [p('tags'), { '!=': [{ var: '' }, 'db'] }] },
    { all: [p('none'), true] },
    { none: [p('tags'), { '==': [{ var: '' }, 'db'] }] },
    { none: [p('missing'), true] },
    { some: [p('status'), true] },
    { filter: [p('tags'), { '!=': [{ var: '' }, 'web'] }] },
    { map: [p('list'), { var: 'to' }] },
    { map: [p('missing'), { var: 'to' }] },
    { reduce: [p('tags'), { cat: [{ var: 'accumulator' }, { var: 'current' }] }, ''] },
    // operators handed to json-logic-js whole
    { '+': [p('n'), p('s'), '1.5'] },
    { '-': [p('n')] },
    { '*': [p('n'), 2] },
    { '/': [p('n'), 0] },
    { '%': [p('n'), 3] },
    { max: [1, p('n'), 3] },
    { min: [] },
    { cat: ['a', p('nul'), p('n')] },
    { substr: [p('host'), -11, -4] },
    { merge: [p('tags'), ['x'], 'y'] },
    { missing: ['payload.status', 'payload.nope', 'payload.empty'] },
    { missing_some: [1, ['payload.status', 'payload.nope']] },
    { unknown_op: [1] },
    { 'a.b': [1] },
    // Reflex's operators, values and errors
    { regex: [p('host'), '^web-\\d+'] },
    { regex: [p('n'), '^5$'] },
    { regex: [p('obj'), 'x'] },
    { regex: [p('host'), '(unclosed'] },
    { iregex: [p('message'), 'disk.*error'] },
    { glob: [p('host'), 'web-*.prod.*'] },
    { glob: [p('missing'), '*'] },
    { iequals: [p('status'), 'OPEN'] },
    { icontains: [p('message'), 'error'] },
    { icontains: [p('tags'), 'PROD'] },
    { icontains: [p('obj'), 'x'] },
    { startsWith: [p('host'), 'web-'] },
    { endsWith: [p('host'), 1] },
    { istartsWith: [p('host'), 'WEB-'] },
    { iendsWith: [p('host'), p('obj')] },
    { exists: 'payload.zero' },
    { exists: 'payload.nul' },
    { exists: [{ var: 'payload.obj' }] },
    { '<': [{ timediff: p('created_at') }, 300] },
    { timediff: [p('obj')] },
    // literals
    [1, p('n'), [p('s')]],
    { a: 1, b: 2 },
    {},
    'text',
    null,
  ];

  it('on hand-picked edge cases of every operator', () => {
    for (const criteria of edgeCases) agree(criteria, ctx(payload));
    // Every known operator appears at least once in the edge cases.
    const seen = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (typeof node === 'object' && node !== null) {
        for (const [key, value] of Object.entries(node)) {
          seen.add(key);
          walk(value);
        }
      }
    };
    walk(edgeCases);
    expect([...KNOWN_OPERATIONS].filter((op) => !seen.has(op))).toEqual([]);
  });

  it('on generated criteria over generated data', () => {
    const paths = ['a', 'b', 'a.b', 'list', 'list.0', 'n', 's', '', 'x.y.z', 'obj.k'];
    const scalar = fc.oneof(fc.integer({ min: -3, max: 12 }), fc.constantFrom('', '0', '1', '5', 'a', 'b', 'web-1', 'A'), fc.boolean(), fc.constant(null));
    const value = fc.letrec<{ v: unknown }>((tie) => ({
      v: fc.oneof({ depthSize: 'small' }, scalar, fc.array(tie('v'), { maxLength: 3 }), fc.dictionary(fc.constantFrom('k', 'x', 'b'), tie('v'), { maxKeys: 2 })),
    })).v;
    const data = fc.record({ a: value, b: value, list: fc.array(value, { maxLength: 3 }), n: scalar, s: scalar, obj: value });
    const ops = [...KNOWN_OPERATIONS].filter((op) => op !== 'var' && op !== 'exists');
    const logic = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        scalar,
        fc.constantFrom(...paths).map((path) => ({ var: path })),
        fc.tuple(fc.constantFrom(...paths), tie('node')).map(([path, fallback]) => ({ var: [path, fallback] })),
        fc.constantFrom(...paths).map((path) => ({ exists: path })),
        fc.array(tie('node'), { maxLength: 3 }),
        fc.tuple(fc.constantFrom(...ops), fc.array(tie('node'), { maxLength: 4 })).map(([op, args]) => ({ [op]: args })),
        fc.tuple(fc.constantFrom(...ops), tie('node')).map(([op, arg]) => ({ [op]: arg })),
      ),
    })).node;
    fc.assert(
      fc.property(logic, data, (criteria, d) => {
        agree(criteria, d);
      }),
      { numRuns: 3000 },
    );
  });
});
