/**
 * `reflex pack test` through the command line program, in this process: a fresh `pack init`
 * validates and passes its own tests; a pack's cases run through the real rules engine (criteria,
 * kv templates, throttling, parameter validation) and every kind of difference is reported the way
 * an author can act on it; broken case files give file:line and exit code 2.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { CliContext } from '@reflex/cli';
import { runProgram } from '@reflex/cli';
import { buildCli } from '../cli.ts';
import type { PackTestReport } from './run.ts';

function buffer(): { write: (t: string) => boolean; text: () => string } {
  let text = '';
  return { write: (t: string) => ((text += t), true), text: () => text };
}

async function reflex(cwd: string, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = buffer();
  const stderr = buffer();
  const ctx: CliContext = { io: { stdout, stderr }, settings: { defaultUrl: 'http://127.0.0.1:1', dataDir: join(cwd, '.reflex'), noColor: true, cwd }, exitCode: 0 };
  const code = await runProgram(buildCli(ctx, env), ctx, ['node', 'reflex', ...argv]);
  return { code, stdout: stdout.text(), stderr: stderr.text() };
}

function write(root: string, files: Record<string, string>): void {
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
}

/** A pack with a cleanup rule (criteria, a kv default), a throttled chat rule (kv), and a rule its action refuses. */
const DEMO = {
  'demo/pack.yaml': 'name: demo\nversion: 0.1.0\ndependencies: { core: ^0.1.0, chat: ^0.1.0 }\n',
  'demo/rules/disk_cleanup.yaml': [
    'name: disk_cleanup',
    'trigger: { type: core.webhook, parameters: { url: disk } }',
    'criteria:',
    '  and:',
    '    - "==": [{ var: payload.body.mount }, /]',
    '    - ">=": [{ var: payload.body.used_percent }, 90]',
    'action:',
    '  ref: core.local',
    '  parameters:',
    '    cmd: journalctl',
    '    args: ["--vacuum-size={{ kv.pack.keep | default: \'1G\' }}"]',
    '    env: { HOST: "{{ payload.body.host }}" }',
    '',
  ].join('\n'),
  'demo/rules/page.yaml': [
    'name: page',
    'trigger: { type: core.webhook, parameters: { url: disk } }',
    'criteria: { ">=": [{ var: payload.body.used_percent }, 95] }',
    'throttle: { mode: once_within, window: 10m, group_by: [payload.body.host] }',
    'action:',
    '  ref: chat.post',
    '  parameters: { target: ops, text: "{{ kv.system.oncall }}: {{ payload.body.host }} disk at {{ payload.body.used_percent }}%" }',
    '',
  ].join('\n'),
  'demo/rules/slow.yaml': [
    'name: slow',
    'trigger: { type: core.webhook, parameters: { url: slow } }',
    'action: { ref: core.local, parameters: { cmd: "true", timeout: "{{ payload.body.timeout }}" } }',
    '',
  ].join('\n'),
  'demo/tests/passes.yaml': [
    'description: the cleanup runs for each event; the page is throttled after the first',
    'now: 2024-05-01T12:00:00Z',
    'kv: { system: { oncall: ana }, pack: { keep: 2G } }',
    'events:',
    '  - { trigger: core.webhook, parameters: { url: disk }, payload: { body: { host: db1, mount: /, used_percent: 97 } } }',
    '  - advance: 1m',
    '  - { trigger: core.webhook, parameters: { url: disk }, payload: { body: { host: db1, mount: /, used_percent: 98 } } }',
    'expect:',
    '  fire: [demo.disk_cleanup, demo.page, demo.disk_cleanup]',
    '  decisions: [{ rule: demo.page, outcome: fired }, { rule: demo.page, outcome: throttled }]',
    '  actions:',
    '    - { action: core.local, rule: demo.disk_cleanup, parameters: { cmd: journalctl, args: [--vacuum-size=2G], env: { HOST: db1 }, timeout: 60 } }',
    '    - { action: chat.post, rule: demo.page }',
    '    - { action: core.local, parameters: { env: { HOST: db1 } } }',
    '  chat: [{ target: ops, text: "ana: db1 disk at 97%" }]',
    '',
  ].join('\n'),
};

describe('reflex pack test', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-pack-test-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('passes on a fresh `pack init`: init → validate → test', async () => {
    expect((await reflex(dir, ['pack', 'init', 'greeter'])).code).toBe(0);
    expect(await reflex(dir, ['pack', 'validate', 'greeter'])).toMatchObject({ code: 0 });
    const tested = await reflex(dir, ['pack', 'test', 'greeter']);
    expect(tested.stderr).toBe('');
    expect(tested.stdout).toBe(
      [
        'greeter',
        '  ✓ greets — a POST naming someone runs the greet action for them',
        '  ✓ no-name — a POST that names nobody runs nothing',
        '',
        '2 passed (1 pack)',
        '',
      ].join('\n'),
    );
    expect(tested.code).toBe(0);
  });

  it('runs cases through the real engine: criteria, kv, throttling, split order, defaults', async () => {
    write(dir, DEMO);
    const { code, stdout } = await reflex(dir, ['--json', 'pack', 'test', 'demo']);
    const report = JSON.parse(stdout) as PackTestReport;
    expect(report.packs[0]?.cases[0]).toMatchObject({ case: 'passes', status: 'passed', failures: [] });
    expect(report.packs[0]?.cases[0]?.decisions.find((d) => d.outcome === 'throttled')?.reason).toContain('once_within');
    expect(code).toBe(0);
  });

  it('fails a wrong expectation with the precise difference, and why a rule did not fire', async () => {
    write(dir, {
      ...DEMO,
      'demo/tests/wrong.yaml': [
        'description: wrong on purpose',
        'event: { trigger: core.webhook, parameters: { url: disk }, payload: { body: { host: db1, mount: /, used_percent: 85 } } }',
        'expect:',
        '  fire: [demo.disk_cleanup]',
        '  actions: [{ action: core.local }]',
        '',
      ].join('\n'),
      'demo/tests/wrong-parameters.yaml': [
        'event: { trigger: core.webhook, parameters: { url: disk }, payload: { body: { host: db1, mount: /, used_percent: 97 } } }',
        'expect:',
        '  fire: [demo.disk_cleanup]',
        '  actions: [{ action: core.local, parameters: { args: [--vacuum-size=5G], env: { HOST: db2 } } }]',
        '',
      ].join('\n'),
      'demo/tests/refused.yaml': ['event: { trigger: core.webhook, parameters: { url: slow }, payload: { body: { timeout: soon } } }', 'expect: { fire: [] }', ''].join('\n'),
    });
    const { code, stdout } = await reflex(dir, ['pack', 'test', 'demo']);
    expect(code).toBe(1);
    expect(stdout).toContain('  ✓ passes');
    expect(stdout).toContain(
      [
        '  ✗ refused',
        "      demo.slow matched on event but could not fire: matched (matched) but could not fire: parameters of core.local is invalid: parameters.timeout must be number",
      ].join('\n'),
    );
    expect(stdout).toContain(
      [
        '  ✗ wrong — wrong on purpose',
        '      demo.disk_cleanup did not fire: criteria not met: criteria.and.1 (criteria.and.1 read payload.body.used_percent = 85)',
        '      expected 1 action (core.local), got 0 (none)',
      ].join('\n'),
    );
    expect(stdout).toContain('  ✗ wrong-parameters');
    // No kv.system.oncall in this case: the page rule matched but its template could not render.
    expect(stdout).toMatch(/demo\.page matched on event but could not fire: .*undefined variable: kv\.system\.oncall/);
    expect(stdout).toContain('      actions.0.parameters.args.0: expected "--vacuum-size=5G", got "--vacuum-size=1G"');
    expect(stdout).toContain('      actions.0.parameters.env.HOST: expected "db2", got "db1"');
    expect(stdout).toContain('1 passed, 3 failed (1 pack)');
  });

  it('reports broken case files and events the trigger type refuses with file:line (exit 2), and packs with no tests', async () => {
    write(dir, {
      ...DEMO,
      'demo/tests/broken.yaml': ['description: broken', 'event:', '  trigger: core.webhook', 'expect:', '  fire: demo.disk_cleanup', ''].join('\n'),
      'demo/tests/bad-event.yaml': ['event:', '  trigger: core.webhook', '  parameters: { url: "/nope" }', '  payload: { body: {} }', 'expect: { fire: [] }', ''].join('\n'),
      'quiet/pack.yaml': 'name: quiet\nversion: 0.1.0\n',
    });
    const { code, stdout } = await reflex(dir, ['pack', 'test', '.']);
    expect(stdout).toContain('  ! demo/tests/broken.yaml:5 expect.fire: must be array');
    expect(stdout).toContain(['  ✗ bad-event', '      demo/tests/bad-event.yaml:3 event.parameters: parameters.url must match pattern'].join('\n'));
    expect(stdout).toContain('- quiet: no tests (no tests/ folder)');
    expect(stdout).toContain('1 passed, 2 errors (2 packs)');
    expect(code).toBe(2);

    const missing = await reflex(dir, ['--json', 'pack', 'test', 'nowhere']);
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stderr)).toEqual({ error: { code: 'PACK_PATH_NOT_FOUND', message: `${join(dir, 'nowhere')}: no such folder`, details: [] } });
  });

  it('tests every pack under REFLEX_PACKS_PATH when no path is given; a pack that does not register is an error', async () => {
    write(dir, {
      'site/greeter/pack.yaml': 'name: greeter\nversion: 0.1.0\n',
      'site/greeter/rules/r.yaml': 'name: r\ntrigger: { type: core.webhook, parameters: { url: g } }\naction: { ref: nothere.act }\n',
      'site/greeter/tests/t.yaml': 'event: { trigger: core.webhook, parameters: { url: g } }\nexpect: { fire: [] }\n',
    });
    const { code, stdout } = await reflex(dir, ['pack', 'test'], { REFLEX_PACKS_PATH: join(dir, 'site') });
    expect(stdout).toContain("  ! greeter/rules/r.yaml:3 action.ref: unknown action 'nothere.act'");
    expect(code).toBe(2);
  });
});
