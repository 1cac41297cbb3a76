import { describe, expect, it } from 'vitest';
import { compileSubjectMatcher, isValidSubject, subjectIsSubsetOf, subjectMatches, subjectsOverlap } from './subject-match.ts';

describe('subjectMatches', () => {
  const cases: Array<[string, string, boolean]> = [
    ['events.webhook', 'events.webhook', true],
    ['events.webhook', 'events.webhooks', false],
    ['events.webhook', 'events', false],
    ['events.*', 'events.webhook', true],
    ['events.*', 'events', false],
    ['events.*', 'events.a.b', false],
    ['events.*.done', 'events.x.done', true],
    ['events.*.done', 'events.x.failed', false],
    ['*.*', 'a.b', true],
    ['*', 'a', true],
    ['*', 'a.b', false],
    ['events.>', 'events.a', true],
    ['events.>', 'events.a.b.c', true],
    ['events.>', 'events', false],
    ['>', 'anything.at.all', true],
    ['>', 'x', true],
    ['a.*.>', 'a.b.c', true],
    ['a.*.>', 'a.b', false],
  ];
  for (const [pattern, subject, want] of cases) {
    it(`${pattern} ${want ? 'matches' : 'does not match'} ${subject}`, () => {
      expect(subjectMatches(pattern, subject)).toBe(want);
      expect(compileSubjectMatcher(pattern)(subject)).toBe(want);
    });
  }
});

describe('isValidSubject', () => {
  it('accepts concrete subjects and, when asked, wildcards', () => {
    expect(isValidSubject('events.webhook.github')).toBe(true);
    expect(isValidSubject('events.*')).toBe(false);
    expect(isValidSubject('events.*', { wildcards: true })).toBe(true);
    expect(isValidSubject('events.>', { wildcards: true })).toBe(true);
  });
  it('rejects empty tokens, whitespace, a non-final > and partial wildcards', () => {
    for (const bad of ['', '.a', 'a.', 'a..b', 'a b', 'a.\tb', 'a.>.b', 'a*.b', 'a.b>']) {
      expect(isValidSubject(bad, { wildcards: true }), bad).toBe(false);
    }
  });
});

describe('subjectsOverlap', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a.b', 'a.b', true],
    ['a.b', 'a.c', false],
    ['a.*', 'a.b', true],
    ['a.>', 'a.b.c', true],
    ['a.>', 'a', false],
    ['a.*', 'a.b.c', false],
    ['*.b', 'a.*', true],
    ['x.>', 'y.>', false],
    ['>', 'q', true],
  ];
  for (const [a, b, want] of cases) {
    it(`${a} and ${b}: ${want}`, () => {
      expect(subjectsOverlap(a, b)).toBe(want);
      expect(subjectsOverlap(b, a)).toBe(want);
    });
  }
});

describe('subjectIsSubsetOf', () => {
  const cases: Array<[string, string, boolean]> = [
    ['a.b', 'a.b', true],
    ['a.b', 'a.*', true],
    ['a.*', 'a.b', false],
    ['a.b.c', 'a.>', true],
    ['a.>', 'a.>', true],
    ['a.*', 'a.>', true],
    ['a.>', 'a.*', false],
    ['a', 'a.>', false],
    ['a.b', '>', true],
    ['>', 'a.>', false],
  ];
  for (const [filter, pattern, want] of cases) {
    it(`${filter} within ${pattern}: ${want}`, () => {
      expect(subjectIsSubsetOf(filter, pattern)).toBe(want);
    });
  }
});
