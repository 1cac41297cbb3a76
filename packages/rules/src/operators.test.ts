import { describe, expect, it } from 'vitest';
import { withClock } from './clock.ts';
import { jsonLogic } from './json-logic.ts';
import { CUSTOM_OPERATIONS, parseTimestamp, registerOperators, timediff } from './operators.ts';
import { compilePattern, globToRe2, MAX_PATTERN_LENGTH, patternProblem } from './patterns.ts';

const run = (logic: unknown, data: unknown = {}): unknown => jsonLogic.apply(logic, data);

describe('operator registration', () => {
  it('registers every custom operator once, idempotently', () => {
    registerOperators();
    registerOperators();
    for (const op of CUSTOM_OPERATIONS) expect(() => run({ [op]: [] })).not.toThrow(/Unrecognized operation/);
  });
});

describe('regex / iregex', () => {
  it('searches (unanchored) with RE2 syntax', () => {
    expect(run({ regex: ['web-12.prod', 'web-\\d+'] })).toBe(true);
    expect(run({ regex: ['web-12.prod', '^\\d+'] })).toBe(false);
    expect(run({ regex: ['WEB-1', 'web'] })).toBe(false);
    expect(run({ iregex: ['WEB-1', 'web'] })).toBe(true);
  });

  it('reads numbers and booleans as text and does not match a missing value', () => {
    expect(run({ regex: [503, '^5\\d\\d$'] })).toBe(true);
    expect(run({ regex: [true, '^true$'] })).toBe(true);
    expect(run({ regex: [{ var: 'nope' }, '.*'] })).toBe(false);
  });

  it('throws on a value or pattern of the wrong type', () => {
    expect(() => run({ regex: [{ var: 'o' }, 'x'] }, { o: { a: 1 } })).toThrow(/regex: the value must be a string, got object/);
    expect(() => run({ regex: ['x', 5] })).toThrow(/regex: the pattern must be a string, got number/);
  });

  it('rejects patterns RE2 does not accept and patterns that are too long', () => {
    expect(() => run({ regex: ['aa', '(a)\\1'] })).toThrow(/RE2/);
    expect(() => run({ regex: ['aa', '(?=a)'] })).toThrow(/RE2/);
    expect(patternProblem('regex', 'a'.repeat(MAX_PATTERN_LENGTH + 1))).toMatch(/limit is 1000/);
    expect(patternProblem('regex', 'a'.repeat(MAX_PATTERN_LENGTH))).toBeUndefined();
  });

  it('runs a catastrophic-backtracking pattern in linear time', () => {
    const input = `${'a'.repeat(50_000)}!`;
    const started = performance.now();
    expect(run({ regex: [input, '^(a+)+$'] })).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('caches compiled patterns', () => {
    expect(compilePattern('regex', 'cache-me')).toBe(compilePattern('regex', 'cache-me'));
    expect(compilePattern('iregex', 'cache-me')).not.toBe(compilePattern('regex', 'cache-me'));
  });
});

describe('iequals / icontains', () => {
  it('compares strings without case, anything else with ===', () => {
    expect(run({ iequals: ['Critical', 'CRITICAL'] })).toBe(true);
    expect(run({ iequals: ['Straße', 'STRASSE'] })).toBe(false);
    expect(run({ iequals: [5, 5] })).toBe(true);
    expect(run({ iequals: [5, '5'] })).toBe(false);
    expect(run({ iequals: [{ var: 'nope' }, 'x'] })).toBe(false);
  });

  it('finds text in a string, or an element that iequals in an array', () => {
    expect(run({ icontains: ['Disk FULL on /var', 'full'] })).toBe(true);
    expect(run({ icontains: ['Disk ok', 'full'] })).toBe(false);
    expect(run({ icontains: [['Prod', 'web'], 'PROD'] })).toBe(true);
    expect(run({ icontains: [['production'], 'prod'] })).toBe(false);
    expect(run({ icontains: [{ var: 'nope' }, 'x'] })).toBe(false);
    expect(() => run({ icontains: [{ var: 'o' }, 'x'] }, { o: { a: 1 } })).toThrow(/icontains/);
  });
});

describe('startsWith / endsWith and their case-insensitive forms', () => {
  it('tests prefixes and suffixes', () => {
    expect(run({ startsWith: ['web-01', 'web-'] })).toBe(true);
    expect(run({ startsWith: ['WEB-01', 'web-'] })).toBe(false);
    expect(run({ istartsWith: ['WEB-01', 'web-'] })).toBe(true);
    expect(run({ endsWith: ['app.log', '.log'] })).toBe(true);
    expect(run({ endsWith: ['app.LOG', '.log'] })).toBe(false);
    expect(run({ iendsWith: ['app.LOG', '.log'] })).toBe(true);
    expect(run({ startsWith: [{ var: 'nope' }, 'x'] })).toBe(false);
    expect(() => run({ startsWith: ['x', null] })).toThrow(/startsWith: the prefix must be a string, got null/);
  });
});

describe('glob (fnmatch semantics)', () => {
  const cases: Array<[string, string, boolean]> = [
    ['*.log', '/var/log/app.log', true],
    ['*.log', 'app.log.gz', false],
    ['web-??', 'web-01', true],
    ['web-??', 'web-1', false],
    ['db-[0-9]*', 'db-7x', true],
    ['db-[!0-9]*', 'db-7x', false],
    ['db-[!0-9]*', 'db-x', true],
    ['[a-c-e]', '-', true],
    ['[z-a]', 'z', false],
    ['[]]', ']', true],
    ['[', '[', true],
    ['a.b', 'axb', false],
    ['(x|y)+', '(x|y)+', true],
    ['*', 'multi\nline', true],
    ['häuser-*', 'häuser-1', true],
    ['a b', 'a b', true],
  ];
  it.each(cases)('%j on %j is %s', (pattern, value, expected) => {
    expect(run({ glob: [value, pattern] })).toBe(expected);
  });

  it('translates to an anchored RE2 pattern with every other character literal', () => {
    expect(globToRe2('web-*.prod')).toBe('^web\\-.*\\.prod$');
    expect(globToRe2('a**b')).toBe('^a.*b$');
  });

  it('stays fast on hostile patterns and inputs', () => {
    const started = performance.now();
    expect(run({ glob: ['a'.repeat(20_000), `${'*a'.repeat(400)}b`] })).toBe(false);
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(() => run({ glob: ['x', '*'.repeat(MAX_PATTERN_LENGTH + 1)] })).toThrow(/limit/);
  });
});

describe('exists', () => {
  const data = { payload: { a: { b: 0 }, n: null, e: '', list: [1] } };
  it('is true when the path holds a value other than null', () => {
    expect(run({ exists: 'payload.a.b' }, data)).toBe(true);
    expect(run({ exists: 'payload.e' }, data)).toBe(true);
    expect(run({ exists: 'payload.list.0' }, data)).toBe(true);
    expect(run({ exists: 'payload.n' }, data)).toBe(false);
    expect(run({ exists: 'payload.missing.deeper' }, data)).toBe(false);
    expect(run({ exists: ['payload.a'] }, data)).toBe(true);
  });

  it('reads the current scope inside some/all', () => {
    expect(run({ some: [{ var: 'items' }, { exists: 'id' }] }, { items: [{ x: 1 }, { id: 2 }] })).toBe(true);
  });

  it('refuses a forbidden path computed at run time', () => {
    expect(() => run({ exists: { var: 'p' } }, { p: 'a.__proto__' })).toThrow(/forbidden/);
  });
});

describe('timediff', () => {
  const now = Date.parse('2024-05-01T12:00:00Z');
  const at = (value: unknown): unknown => withClock(() => now, () => run({ timediff: [value] }));

  it('gives seconds since an ISO-8601 time or epoch seconds / milliseconds', () => {
    expect(at('2024-05-01T11:59:00Z')).toBe(60);
    expect(at('2024-05-01T13:00:00+01:00')).toBe(0);
    expect(at('2024-05-01T13:00:00+0100')).toBe(0);
    expect(at('2024-05-01 11:59:30.5')).toBe(29.5);
    expect(at('2024-05-01T11:00')).toBe(3600);
    expect(at('2024-05-01')).toBe(12 * 3600);
    expect(at(now / 1000 - 10)).toBe(10);
    expect(at(now - 10_000)).toBe(10);
    expect(at(String(now / 1000 - 5))).toBe(5);
    expect(at('2024-05-01T12:01:00Z')).toBe(-60);
  });

  it('is null (never NaN) for anything unreadable', () => {
    for (const bad of ['yesterday', '', '2024-13-45T00:00:00Z', 'March 7, 2024', null, true, {}, [], Number.NaN]) {
      expect(at(bad)).toBeNull();
    }
    expect(parseTimestamp('2024-02-30T00:00:00Z')).toBeNull();
  });

  it('uses the clock of the current evaluation only', () => {
    const inside = withClock(() => now, () => timediff('2024-05-01T11:59:00Z'));
    expect(inside).toBe(60);
    const outside = timediff('2024-05-01T11:59:00Z');
    expect(outside).not.toBe(60);
    expect(() => withClock(() => now, () => {
      throw new Error('boom');
    })).toThrow('boom');
    expect(timediff('2024-05-01T11:59:00Z')).not.toBe(60);
  });
});

describe('json-logic pitfalls the docs warn about', () => {
  it('compares a missing value as 0', () => {
    expect(run({ '<': [{ var: 'payload.free_gb' }, 10] }, { payload: {} })).toBe(true);
    expect(run({ and: [{ exists: 'payload.free_gb' }, { '<': [{ var: 'payload.free_gb' }, 10] }] }, { payload: {} })).toBe(false);
  });
});

describe('pattern cache', () => {
  it('stays correct while evicting', () => {
    for (let i = 0; i < 2_500; i += 1) expect(compilePattern('regex', `^p${i}$`).test(`p${i}`)).toBe(true);
    expect(compilePattern('regex', '^p0$').test('p0')).toBe(true);
    expect(patternProblem('regex', '(')).toMatch(/RE2/);
  });
});
