/**
 * The CLI's own logic, without a server: parsing what people type, the rule test report, the pack
 * scaffold (it must pass the real loader), key discovery, output for terminals and pipes, and
 * commands run through the program with a fake fetch.
 */
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPack } from '@reflex/packs';
import type { Action, Rule } from '@reflex/model';
import { parseAssignments, parseDuration, parseSince, takesText } from './args.ts';
import { resolveApiKey, type CliContext, type CliSettings } from './context.ts';
import { createProgram, runProgram } from './index.ts';
import { Output, UsageError } from './output.ts';
import { draftRule, testEvent, testRule } from './rule-test.ts';
import { scaffoldPack } from './scaffold.ts';

function buffer(isTTY = false): { write: (t: string) => boolean; isTTY: boolean; text: () => string } {
  let text = '';
  return { write: (t: string) => ((text += t), true), isTTY, text: () => text };
}

describe('reading what people type', () => {
  it('parses name=value, as JSON unless the action takes text', () => {
    const schema = { properties: { cmd: { type: 'string' }, zip: { type: ['string'] }, count: { type: 'integer' } } };
    expect(parseAssignments(['cmd=false', 'zip=01234', 'count=3', 'tags=["a"]', 'note=hello world', 'eq=a=b', 'empty='], 'parameter', schema)).toEqual({
      cmd: 'false',
      zip: '01234',
      count: 3,
      tags: ['a'],
      note: 'hello world',
      eq: 'a=b',
      empty: '',
    });
    expect(parseAssignments(['flag=true', 'n=1e3'])).toEqual({ flag: true, n: 1000 });
    expect(takesText({ properties: { a: { type: ['string', 'null'] } } }, 'a')).toBe(false);
    expect(() => parseAssignments(['novalue'])).toThrow("'novalue' is not a parameter: write name=value");
    expect(() => parseAssignments(['=x'])).toThrow(UsageError);
    expect(() => parseAssignments(['a=1', 'a=2'])).toThrow("parameter 'a' is given twice");
    expect(() => parseAssignments(['__proto__=1'])).toThrow(UsageError);
  });

  it('parses durations and times', () => {
    expect([parseDuration('90'), parseDuration('90s'), parseDuration('15m'), parseDuration('2h'), parseDuration('7d'), parseDuration('1w')]).toEqual([90, 90, 900, 7200, 604800, 604800]);
    expect(() => parseDuration('soon')).toThrow(UsageError);
    expect(() => parseDuration('0')).toThrow('more than 0');
    expect(parseSince('24h', Date.parse('2024-05-02T12:00:00Z'))).toBe('2024-05-01T12:00:00.000Z');
    expect(parseSince('2024-05-01T12:00:00+02:00')).toBe('2024-05-01T10:00:00.000Z');
    expect(() => parseSince('yesterday')).toThrow(UsageError);
  });
});

const echo: Action = {
  ref: 'core.echo',
  pack: 'core',
  name: 'echo',
  enabled: true,
  runner: 'echo',
  parametersSchema: { type: 'object', additionalProperties: false, required: ['message'], properties: { message: { type: 'string' } } },
};

const rule: Rule = draftRule(
  {
    pack: 'demo',
    name: 'disk_alert',
    trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
    criteria: { and: [{ '==': [{ var: 'payload.body.status' }, 'firing'] }, { '>': [{ var: 'payload.body.value' }, 90] }] },
    action: { ref: 'core.echo', parameters: { message: '{{ kv.system.oncall }}: {{ payload.body.host }} at {{ payload.body.value }}%' } },
  },
  undefined,
);

describe('rule test', () => {
  const kv = { system: { oncall: 'ana' }, pack: {} };
  const failing = (report: ReturnType<typeof testRule>): string[] => report.checks.filter((c) => !c.ok).map((c) => c.check);

  it('fires, with the rendered parameters, when every step passes', () => {
    const event = testEvent({ payload: { body: { status: 'firing', host: 'db1', value: 97 } } }, rule);
    expect(event).toMatchObject({ type: 'core.webhook', triggerParameters: { url: 'alerts' } });
    const report = testRule({ rule, event, action: echo, kv });
    expect(report).toMatchObject({ rule: 'demo.disk_alert', fires: true, parameters: { message: 'ana: db1 at 97%' } });
    expect(failing(report)).toEqual([]);
  });

  it('says which step fails, and which condition with what values', () => {
    const low = testRule({ rule, event: testEvent({ body: { status: 'firing', host: 'db1', value: 85 } }, rule), action: echo, kv });
    expect(low.fires).toBe(false);
    expect(failing(low)).toEqual(['criteria']);
    expect(low.checks.find((c) => c.check === 'criteria')?.message).toBe('not met: criteria.and.1');
    expect(low.criteria.map((c) => [c.field, c.matched, c.values])).toEqual([
      ['criteria.and.0', true, { 'payload.body.status': 'firing' }],
      ['criteria.and.1', false, { 'payload.body.value': 85 }],
    ]);

    const other = testEvent({ type: 'core.interval', triggerParameters: { url: 'other' }, payload: {} }, rule);
    expect(failing(testRule({ rule: { ...rule, enabled: false }, event: other, action: undefined }))).toEqual([
      'enabled',
      'trigger.type',
      'trigger.parameters',
      'criteria',
      'action',
      'parameters',
    ]);
    const noKey = testRule({ rule, event: testEvent({ body: { status: 'firing', host: 'db1', value: 97 } }, rule), action: echo, kv: { system: {}, pack: {} } });
    expect(failing(noKey)).toEqual(['parameters']);
    expect(noKey.checks.find((c) => c.check === 'parameters')?.message).toContain('kv.system.oncall');
  });

  it('refuses a draft that is not a rule, naming the field', () => {
    expect(() => draftRule({ name: 'x', trigger: { type: 'core.webhook' } }, 'demo')).toThrow(expect.objectContaining({ details: [{ field: 'rule.action', message: 'is required' }] }));
    expect(() => draftRule('text', undefined)).toThrow(UsageError);
    expect(draftRule({ name: 'x', trigger: { type: 'core.webhook' }, action: { ref: 'core.noop' } }, undefined).ref).toBe('draft.x');
  });
});

describe('pack init', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-scaffold-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scaffolds a pack the loader accepts with no error', async () => {
    const root = join(dir, 'greeter');
    for (const file of scaffoldPack('greeter')) {
      mkdirSync(join(root, file.path, '..'), { recursive: true });
      writeFileSync(join(root, file.path), file.content, { mode: file.executable === true ? 0o755 : 0o644 });
    }
    const loaded = await loadPack(root);
    expect(loaded.errors).toEqual([]);
    expect(loaded.manifest).toMatchObject({ name: 'greeter', version: '0.1.0', dependencies: { core: '^0.1.0' } });
    expect(loaded.actions.map((a) => a.ref)).toEqual(['greeter.greet']);
    expect(loaded.rules.map((r) => r.name)).toEqual(['greet_on_webhook']);
    expect(() => scaffoldPack('Bad Name')).toThrow("'Bad Name' is not a pack name");
  });
});

describe('settings and output', () => {
  const settings = (dataDir: string, extra: Partial<CliSettings> = {}): CliSettings => ({ defaultUrl: 'http://127.0.0.1:8180', dataDir, noColor: false, cwd: dataDir, ...extra });

  it('takes the key from --api-key, then REFLEX_API_KEY, then <data dir>/admin.key', () => {
    const dir = mkdtempSync(join(tmpdir(), 'reflex-key-'));
    try {
      expect(resolveApiKey({}, settings(dir))).toEqual({ source: 'none' });
      writeFileSync(join(dir, 'admin.key'), 'rfx_file\n');
      expect(resolveApiKey({}, settings(dir))).toEqual({ key: 'rfx_file', source: join(dir, 'admin.key') });
      expect(resolveApiKey({}, settings(dir, { apiKey: 'rfx_env' }))).toEqual({ key: 'rfx_env', source: 'REFLEX_API_KEY' });
      expect(resolveApiKey({ apiKey: 'rfx_flag' }, settings(dir, { apiKey: 'rfx_env' }))).toEqual({ key: 'rfx_flag', source: '--api-key' });
      // From a folder inside the project, the default data dir is found above it (when REFLEX_DATA_DIR is not set).
      mkdirSync(join(dir, '.reflex'));
      writeFileSync(join(dir, '.reflex', 'admin.key'), 'rfx_parent\n');
      const deep = join(dir, 'packs', 'mine');
      mkdirSync(deep, { recursive: true });
      const inside = { defaultUrl: 'x', dataDir: join(deep, '.reflex'), noColor: false, cwd: deep };
      expect(resolveApiKey({}, { ...inside, searchParents: true })).toEqual({ key: 'rfx_parent', source: join(dir, '.reflex', 'admin.key') });
      expect(resolveApiKey({}, inside)).toEqual({ source: 'none' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('colours only a terminal, and aligns tables', () => {
    const pipe = buffer(false);
    new Output(pipe, buffer(), { json: false, colour: true }).table([{ a: 'x', b: 'succeeded' }, { a: 'longer', b: 'failed' }], [
      { header: 'A', value: (r) => r.a },
      { header: 'STATUS', value: (r) => r.b, colour: () => 'green' },
    ]);
    expect(pipe.text()).toBe('A       STATUS\nx       succeeded\nlonger  failed\n');
    const tty = buffer(true);
    new Output(tty, buffer(), { json: false, colour: true }).line(new Output(tty, buffer(), { json: false, colour: true }).paint('ok', 'green'));
    expect(tty.text()).toBe('\u001b[32mok\u001b[39m\n');
    const noColour = buffer(true);
    const out = new Output(noColour, buffer(), { json: false, colour: false });
    out.line(out.paint('ok', 'green'));
    expect(noColour.text()).toBe('ok\n');
  });

  it('runs commands through the program: JSON out, errors on stderr, exit codes', async () => {
    const calls: string[] = [];
    const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
      calls.push(`${init?.method ?? 'GET'} ${String(input)} ${(init?.headers as Record<string, string>)['authorization'] ?? ''}`);
      if (String(input).endsWith('/v1/keys/system/oncall')) return new Response(JSON.stringify({ scope: 'system', name: 'oncall', value: 'ana', secret: false, updatedAt: 't' }));
      return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: 'no key', details: [] } }), { status: 404 });
    }) as typeof fetch;
    const run = async (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
      const stdout = buffer();
      const stderr = buffer();
      const ctx: CliContext = { io: { stdout, stderr }, settings: settings('/nowhere', { apiKey: 'rfx_env', noColor: true }), fetch: fakeFetch, exitCode: 0 };
      const code = await runProgram(createProgram(ctx), ctx, ['node', 'reflex', ...argv]);
      return { code, stdout: stdout.text(), stderr: stderr.text() };
    };
    expect(await run(['key', 'get', 'oncall'])).toEqual({ code: 0, stdout: 'ana\n', stderr: '' });
    expect(calls).toEqual(['GET http://127.0.0.1:8180/v1/keys/system/oncall Bearer rfx_env']);
    const missing = await run(['--json', '--url', 'http://api.test:1/', 'key', 'get', 'nobody', '--pack', 'ops']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr)).toEqual({ error: { code: 'NOT_FOUND', message: 'no key', details: [] } });
    expect(calls[1]).toBe('GET http://api.test:1/v1/keys/pack%3Aops/nobody Bearer rfx_env');
    const usage = await run(['key', 'get']);
    expect(usage.code).toBe(1);
    expect(usage.stderr).toContain("missing required argument 'name'");
    expect((await run(['--version'])).stdout).toBe('0.1.0\n');
  });
});

describe('rule files with noise control', () => {
  it('keeps throttle and group, written the pack way (snake_case) or the API way', async () => {
    const { draftRule } = await import('./rule-test.ts');
    const base = {
      pack: 'demo',
      name: 'grouped',
      trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
      action: { ref: 'core.noop' },
    };
    const snake = draftRule({ ...base, group: { group_by: ['payload.body.labels.alertname'], group_wait: '30s' } }, undefined);
    expect(snake.group).toEqual({ groupBy: ['payload.body.labels.alertname'], groupWait: '30s' });
    const camel = draftRule({ ...base, throttle: { mode: 'once_within', window: '5m', groupBy: ['payload.body.host'] } }, undefined);
    expect(camel.throttle).toEqual({ mode: 'once_within', window: '5m', groupBy: ['payload.body.host'] });
  });
});
