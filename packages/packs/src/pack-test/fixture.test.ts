/**
 * Case files of `reflex pack test`: what a valid one becomes, and every problem of a broken one
 * reported at once with its file, line and field.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPackTests, parsePackTestCase } from './fixture.ts';

describe('pack test cases', () => {
  let root: string;
  let tests: string;
  beforeAll(() => {
    root = mkdtempSync(path.join(tmpdir(), 'reflex-pack-cases-'));
    tests = path.join(root, 'demo', 'tests');
    mkdirSync(tests, { recursive: true });
    writeFileSync(path.join(tests, 'body.json'), '{ "alerts": [1, 2] }');
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('reads a case: steps, datastore values, expectations', async () => {
    const text = [
      'description: two alerts',
      'now: 2024-05-01T12:00:00+02:00',
      'kv:',
      '  system: { oncall: ana }',
      '  pack: { limit: 90 }',
      'events:',
      '  - trigger: demo.alert',
      '    parameters: { url: alerts }',
      '    payload_file: body.json',
      '  - advance: 1m30s',
      'expect:',
      '  fire: [demo.page]',
      '  actions: [{ action: core.local, parameters: { cmd: df } }]',
      '  chat: [{ target: null, text_contains: disk }]',
      '  decisions: [{ rule: demo.group, outcome: grouped, reason_contains: opened }]',
    ].join('\n');
    const { testCase, errors } = await parsePackTestCase(text, 'demo/tests/two.yaml', tests, 'demo');
    expect(errors).toEqual([]);
    expect(testCase).toMatchObject({
      name: 'two',
      file: 'demo/tests/two.yaml',
      description: 'two alerts',
      now: '2024-05-01T10:00:00.000Z',
      kv: [
        { scope: 'system', name: 'oncall', value: 'ana' },
        { scope: 'pack:demo', name: 'limit', value: 90 },
      ],
      steps: [
        { kind: 'event', trigger: 'demo.alert', parameters: { url: 'alerts' }, payload: { alerts: [1, 2] }, field: 'events.0' },
        { kind: 'advance', ms: 90_000, text: '1m30s', field: 'events.1' },
      ],
      expect: {
        fire: ['demo.page'],
        actions: [{ action: 'core.local', parameters: { cmd: 'df' } }],
        chat: [{ target: null, textContains: 'disk' }],
        decisions: [{ rule: 'demo.group', outcome: 'grouped', reasonContains: 'opened' }],
      },
    });
  });

  it('reports every problem of a broken case with file:line and field', async () => {
    const text = [
      'description: broken', //                 1
      'event:', //                              2
      '  trigger: not a ref', //                3
      '  payload: {}', //                       4
      '  payload_file: ../../elsewhere.json', // 5
      'expect:', //                             6
      '  fire: demo.page', //                   7
      '  chat:', //                             8
      '    - { text: a, text_contains: b }', // 9
      '  surprise: true', //                    10
    ].join('\n');
    const { testCase, errors } = await parsePackTestCase(text, 'demo/tests/broken.yaml', tests, 'demo');
    expect(testCase).toBeUndefined();
    expect(errors.map((e) => `${e.file}:${e.line} ${e.field}: ${e.message}`)).toEqual([
      expect.stringMatching(/^demo\/tests\/broken\.yaml:3 event\.trigger: must match pattern/),
      'demo/tests/broken.yaml:5 event.payload_file: give payload or payload_file, not both',
      'demo/tests/broken.yaml:7 expect.fire: must be array',
      'demo/tests/broken.yaml:9 expect.chat.0.text_contains: give text or text_contains, not both',
      'demo/tests/broken.yaml:10 expect.surprise: is not allowed',
    ]);
  });

  it('pins the rest too: YAML syntax, a missing event, a bad duration, a data file that is not there', async () => {
    const syntax = await parsePackTestCase('event:\n  trigger: [a\n', 'demo/tests/s.yaml', tests, 'demo');
    expect(syntax.errors[0]).toMatchObject({ file: 'demo/tests/s.yaml', line: expect.any(Number), field: '' });
    const none = await parsePackTestCase('expect: {}\n', 'demo/tests/n.yaml', tests, 'demo');
    expect(none.errors).toEqual([{ file: 'demo/tests/n.yaml', line: 1, column: 1, field: 'event', message: 'is required (or events: a list)' }]);
    const steps = await parsePackTestCase(
      ['events:', '  - advance: soon', '  - trigger: demo.x', '    payload_file: missing.json', 'expect: {}'].join('\n'),
      'demo/tests/st.yaml',
      tests,
      'demo',
    );
    expect(steps.errors.map((e) => [e.line, e.field])).toEqual([
      [2, 'events.0.advance'],
      [4, 'events.1.payload_file'],
    ]);
    expect(steps.errors[1]?.message).toContain('missing.json cannot be read');
    const outside = await parsePackTestCase('event: { trigger: demo.x, payload_file: ../../x.json }\nexpect: {}\n', 'demo/tests/o.yaml', tests, 'demo');
    expect(outside.errors[0]?.message).toBe('must name a file inside the pack folder (relative to tests/)');
  });

  it('loads tests/*.yaml of a pack by name, leaves data files alone, and says when there is no tests folder', async () => {
    writeFileSync(path.join(tests, 'b.yaml'), 'event: { trigger: demo.x }\nexpect: { fire: [] }\n');
    writeFileSync(path.join(tests, 'a.yml'), 'event: { trigger: demo.x }\nexpect: { nope: 1 }\n');
    writeFileSync(path.join(tests, 'sample.event.json'), '{}');
    const loaded = await loadPackTests(path.join(root, 'demo'), 'demo');
    expect(loaded.dir).toBe(tests);
    expect(loaded.cases.map((c) => c.name)).toEqual(['b']);
    expect(loaded.errors).toEqual([{ file: 'demo/tests/a.yml', line: 2, column: 11, field: 'expect.nope', message: 'is not allowed' }]);
    mkdirSync(path.join(root, 'empty'));
    expect(await loadPackTests(path.join(root, 'empty'), 'empty')).toEqual({ dir: null, cases: [], errors: [] });
  });
});
