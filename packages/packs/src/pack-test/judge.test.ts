/**
 * The comparison behind `reflex pack test`, without an engine: given what the engine decided and
 * requested, each kind of difference is reported precisely (which rule, why, which parameter).
 */
import { describe, expect, it } from 'vitest';
import type { Decision, DecisionOutcome } from '@reflex/model';
import type { PackTestCase, TestExpectations } from './fixture.ts';
import { judgeCase, partialDifferences, type CaseObservation, type ObservedEvent, type ObservedExecution } from './judge.ts';

function testCase(expect: TestExpectations): PackTestCase {
  return { name: 'c', file: 'demo/tests/c.yaml', kv: [], steps: [], expect, source: { file: 'demo/tests/c.yaml', positions: {} } };
}

function decision(rule: string, outcome: DecisionOutcome, reason: string, extra: Partial<Decision> = {}): Decision {
  return { id: `d-${rule}`, eventId: 'e1', rule, outcome, reason, at: '2024-05-01T12:00:00.000Z', traceId: 't', ...extra };
}

function observation(decisions: Decision[], executions: ObservedExecution[] = [], why: Record<string, string> = {}): CaseObservation {
  const events: ObservedEvent[] = [{ id: 'e1', type: 'demo.disk', step: 'event', decisions }];
  return { events, executions, explain: (rule) => why[rule] };
}

const cleanup: ObservedExecution = { id: 'x1', action: 'core.local', rule: 'demo.cleanup', parameters: { cmd: 'journalctl', args: ['--vacuum-size=1G'], env: {} }, later: false };

describe('partial parameters', () => {
  it('compares only the keys written, lists item by item, scalars exactly', () => {
    const actual = { cmd: 'df', args: ['-h', '/'], env: { A: '1', B: '2' }, timeout: 60 };
    expect(partialDifferences({ cmd: 'df', env: { A: '1' } }, actual)).toEqual([]);
    expect(partialDifferences({ cmd: 'du', env: { C: '3' }, args: ['-h'], timeout: '60' }, actual, 'p')).toEqual([
      { path: 'p.cmd', expected: 'du', actual: 'df' },
      { path: 'p.env.C', expected: '3', actual: undefined },
      { path: 'p.args', expected: ['-h'], actual: ['-h', '/'] },
      { path: 'p.timeout', expected: '60', actual: 60 },
    ]);
    expect(partialDifferences([{ a: 1 }, { b: 2 }], [{ a: 1, z: 0 }, { b: 3 }])).toEqual([{ path: '1.b', expected: 2, actual: 3 }]);
  });
});

describe('judging a case', () => {
  it('passes when the rules that fire, the actions and their parameters are as expected', () => {
    const result = judgeCase(
      testCase({ fire: ['demo.cleanup'], actions: [{ action: 'core.local', rule: 'demo.cleanup', parameters: { cmd: 'journalctl' } }] }),
      observation([decision('demo.cleanup', 'fired', 'matched')], [cleanup]),
    );
    expect(result).toMatchObject({ status: 'passed', fired: ['demo.cleanup'], failures: [] });
  });

  it('names a rule that fired unexpectedly, and one that did not fire with why (its criteria)', () => {
    const result = judgeCase(
      testCase({ fire: ['demo.page'] }),
      observation([decision('demo.cleanup', 'fired', 'matched')], [cleanup], { 'demo.page': 'criteria not met: criteria.and.1 (criteria.and.1 read payload.used_percent = 85)' }),
    );
    expect(result.status).toBe('failed');
    expect(result.failures.map((f) => [f.kind, f.message])).toEqual([
      ['unexpected_fire', 'demo.cleanup fired but `fire` does not list it (event: matched)'],
      ['missing_fire', 'demo.page did not fire: criteria not met: criteria.and.1 (criteria.and.1 read payload.used_percent = 85)'],
    ]);
    const unknown = judgeCase(testCase({ fire: ['demo.nope'] }), observation([]));
    expect(unknown.failures[0]?.message).toBe('demo.nope did not fire: no rule demo.nope is registered');
  });

  it('reports noise control as such: a grouped rule did not fire at once, with its decision', () => {
    const grouped = decision('demo.group', 'grouped', 'opened group host="db1"; it fires at 2024-05-01T12:00:30.000Z (group_wait)');
    const result = judgeCase(testCase({ fire: ['demo.group'], decisions: [{ rule: 'demo.group', outcome: 'throttled' }] }), observation([grouped]));
    expect(result.failures.map((f) => f.message)).toEqual([
      expect.stringMatching(/^demo\.group did not fire: grouped \(event: opened group host="db1"; .*\) — noise control: `fire` lists only what fires at once/),
      'demo.group: expected throttled, got grouped (event: opened group host="db1"; it fires at 2024-05-01T12:00:30.000Z (group_wait))',
    ]);
    expect(judgeCase(testCase({ fire: [], decisions: [{ rule: 'demo.group', outcome: 'grouped', reasonContains: 'group_wait' }] }), observation([grouped])).status).toBe('passed');
  });

  it('names the parameter that differs (path, expected, actual), and a missing or different action', () => {
    const result = judgeCase(
      testCase({
        actions: [
          { action: 'core.local', parameters: { cmd: 'journalctl', args: ['--vacuum-size=2G'], env: { LANG: 'C' } } },
          { action: 'chat.post' },
        ],
      }),
      observation([decision('demo.cleanup', 'fired', 'matched')], [cleanup]),
    );
    expect(result.failures.map((f) => [f.path, f.message])).toEqual([
      ['actions', 'expected 2 actions (core.local, chat.post), got 1 (core.local (by demo.cleanup))'],
      ['actions.0.parameters.args.0', 'actions.0.parameters.args.0: expected "--vacuum-size=2G", got "--vacuum-size=1G"'],
      ['actions.0.parameters.env.LANG', 'actions.0.parameters.env.LANG: expected "C", got (absent)'],
    ]);
    const other = judgeCase(testCase({ actions: [{ action: 'core.http' }] }), observation([], [cleanup]));
    expect(other.failures[0]).toMatchObject({ path: 'actions.0.action', message: 'actions.0.action: expected core.http, got core.local (by demo.cleanup)', expected: 'core.http', actual: 'core.local' });
  });

  it('checks chat messages by target and text', () => {
    const post: ObservedExecution = { id: 'x2', action: 'chat.post', parameters: { text: 'db1 load is 12', title: 'Load' }, later: true };
    const ok = judgeCase(testCase({ chat: [{ target: null, textContains: 'load', title: 'Load' }] }), observation([], [post]));
    expect(ok.status).toBe('passed');
    const wrong = judgeCase(testCase({ chat: [{ target: 'ops', text: 'db1 load is 13' }] }), observation([], [post]));
    expect(wrong.failures.map((f) => f.message)).toEqual([
      'chat.0.target: expected ops, got (the default target)',
      'chat.0.text: expected "db1 load is 13", got "db1 load is 12"',
    ]);
    expect(judgeCase(testCase({ chat: [] }), observation([], [post])).failures[0]?.message).toBe('expected 0 chat messages, got 1 ("db1 load is 12")');
  });

  it('fails a rule that matched but could not fire, naming every field its action refused', () => {
    const failed = decision('demo.cleanup', 'failed', 'matched (matched) but could not fire: parameters of core.local is invalid: parameters.cmd is required', {
      error: {
        name: 'ValidationError',
        code: 'VALIDATION_FAILED',
        message: 'x',
        details: [
          { field: 'parameters.cmd', message: 'is required' },
          { field: 'parameters.timeout', message: 'must be number' },
        ],
      },
    });
    const result = judgeCase(testCase({}), observation([failed]));
    expect(result.failures).toEqual([
      {
        kind: 'could_not_fire',
        path: 'fire',
        message:
          'demo.cleanup matched on event but could not fire: matched (matched) but could not fire: parameters of core.local is invalid: parameters.cmd is required (parameters.cmd is required; parameters.timeout must be number)',
      },
    ]);
    expect(judgeCase(testCase({ decisions: [{ rule: 'demo.cleanup', outcome: 'failed' }] }), observation([failed])).status).toBe('passed');
  });
});
