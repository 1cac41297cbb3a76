/**
 * The `reflex` command, as a user runs it (the real bin, in a child process), against Reflex
 * started in this process on the embedded defaults. The CLI finds the API key in `.reflex/admin.key`
 * of the folder it runs in, as the README promises. Covers packs (init, validate, register), rules
 * (test, apply, enable/disable), runs and executions (wait, tail, re-run), events, the datastore
 * (secrets masked in listings, executions, output and logs) and API keys, each with --json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import { SECRET_MASK } from '@reflex/model';
import { loadConfig } from '@reflex/runtime';
import { waitFor } from '../support/wait.ts';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));
const BIN = fileURLToPath(new URL('../../services/launcher/bin/reflex.js', import.meta.url));
const SECRET = 'tok-Zq81-cli-secret';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  json: <T = Record<string, unknown>>() => T;
}

describe('the reflex CLI against an embedded Reflex', () => {
  let work: string;
  let reflex: Launched;
  const logLines: string[] = [];
  /** Every CLI output, to check that the secret never shows except where it was asked for. */
  const outputs: string[] = [];

  /** Runs `reflex <args>` in `cwd` (default: the folder whose .reflex/ holds the admin key). */
  const cli = async (args: string[], options: { cwd?: string; stdin?: string; env?: Record<string, string>; showsSecret?: boolean } = {}): Promise<Run> => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd ?? work,
      // Only what a user's shell would have: no REFLEX_API_KEY, no REFLEX_DATA_DIR.
      env: { PATH: process.env['PATH'] ?? '', HOME: work, REFLEX_URL: reflex.url ?? '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdin.end(options.stdin ?? '');
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    if (options.showsSecret !== true) outputs.push(stdout, stderr);
    return {
      code,
      stdout,
      stderr,
      json: <T,>() => {
        try {
          return JSON.parse(stdout) as T;
        } catch {
          throw new Error(`reflex ${args.join(' ')} did not print JSON (exit ${code}):\n${stdout}\n${stderr}`);
        }
      },
    };
  };

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'reflex-cli-'));
    mkdirSync(join(work, 'packs'));
    const config = loadConfig({}, { port: 0, dataDir: join(work, '.reflex'), packsPaths: [PACKS, join(work, 'packs')], logLevel: 'debug' });
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'debug' }, { write: (line: string) => logLines.push(line) }), { env: process.env });
  });

  afterAll(async () => {
    await reflex?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('uses .reflex/admin.key of the folder it runs in, and says what to do without one', async () => {
    const me = await cli(['--json', 'whoami']);
    expect(me.code).toBe(0);
    expect(me.json()).toMatchObject({ name: 'admin', role: 'admin', kind: 'apikey' });

    const elsewhere = mkdtempSync(join(tmpdir(), 'reflex-cli-nokey-'));
    try {
      // (REFLEX_DATA_DIR set, so no .reflex/ in the folders above is looked for either.)
      const refused = await cli(['--json', 'rule', 'list'], { cwd: elsewhere, env: { REFLEX_DATA_DIR: join(elsewhere, '.reflex') } });
      expect(refused.code).toBe(1);
      const error = JSON.parse(refused.stderr) as { error: { code: string; hint: string } };
      expect(error.error.code).toBe('UNAUTHENTICATED');
      expect(error.error.hint).toContain('admin.key');
      const human = await cli(['rule', 'list'], { cwd: elsewhere, env: { REFLEX_DATA_DIR: join(elsewhere, '.reflex') } });
      expect(human.stderr).toMatch(/^reflex: /);
      expect(human.stderr).toContain('no API key was sent');
      // REFLEX_API_KEY (or --api-key) works from anywhere.
      const key = (await cli(['--json', 'apikey', 'create', 'elsewhere', '--role', 'viewer'], { showsSecret: true })).json<{ key: string }>().key;
      expect((await cli(['--json', 'whoami'], { cwd: elsewhere, env: { REFLEX_API_KEY: key } })).json()).toMatchObject({ name: 'elsewhere', role: 'viewer' });
      expect((await cli(['--json', '--api-key', key, 'whoami'], { cwd: elsewhere })).json()).toMatchObject({ role: 'viewer' });
    } finally {
      rmSync(elsewhere, { recursive: true, force: true });
    }
  });

  it('scaffolds a pack that validates, registers, fires in rule test and runs', async () => {
    // Run from inside the packs folder: the key is found in ../.reflex, as git finds .git.
    const init = await cli(['--json', 'pack', 'init', 'greeter'], { cwd: join(work, 'packs') });
    expect(init.code).toBe(0);
    expect(init.json<{ files: string[] }>().files).toEqual(expect.arrayContaining(['pack.yaml', 'actions/greet.yaml', 'rules/greet_on_webhook.yaml', 'README.md']));

    const valid = await cli(['--json', 'pack', 'validate', 'packs/greeter']);
    expect(valid.code).toBe(0);
    expect(valid.json()).toMatchObject({ ok: true, packs: [{ pack: 'greeter', ok: true, counts: { actions: 1, rules: 1 } }] });

    const registered = await cli(['--json', 'pack', 'register', 'greeter'], { cwd: join(work, 'packs', 'greeter') });
    expect(registered.code).toBe(0);
    expect(registered.json()).toEqual([expect.objectContaining({ pack: 'greeter', ok: true })]);
    expect((await cli(['--json', 'pack', 'list'])).json<Array<{ name: string }>>().map((p) => p.name)).toContain('greeter');

    const tested = await cli(['--json', 'rule', 'test', 'greeter.greet_on_webhook', '--event', 'packs/greeter/tests/greet.event.json']);
    expect(tested.code).toBe(0);
    expect(tested.json()).toMatchObject({ rule: 'greeter.greet_on_webhook', fires: true, parameters: { name: 'Ada', greeting: 'Hello' } });

    const run = await cli(['--json', 'run', 'greeter.greet', 'name=Grace', 'greeting=Hi']);
    expect(run.code).toBe(0);
    expect(run.json()).toMatchObject({ action: 'greeter.greet', status: 'succeeded', result: { stdout: 'Hi, Grace!\n', exitCode: 0 } });
    const human = await cli(['run', 'greeter.greet', 'name=Lin']);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('Hello, Lin!');
    expect(human.stderr).toMatch(/succeeded greeter\.greet \S+ in/);
  });

  it('explains why a rule would not fire, for a saved rule and a draft file', async () => {
    writeFileSync(join(work, 'payload.json'), JSON.stringify({ body: { greeting: 'Yo' }, headers: {}, query: {} }));
    const saved = await cli(['--json', 'rule', 'test', 'greeter.greet_on_webhook', '--event', 'payload.json']);
    expect(saved.code).toBe(1);
    const report = saved.json<{ fires: boolean; checks: Array<{ check: string; ok: boolean }>; criteria: Array<{ field: string; matched: boolean }> }>();
    expect(report.fires).toBe(false);
    expect(report.checks.filter((c) => !c.ok).map((c) => c.check)).toEqual(['criteria', 'parameters']);
    expect(report.criteria).toEqual([expect.objectContaining({ field: 'criteria', matched: false })]);

    writeFileSync(
      join(work, 'draft.yaml'),
      ['name: draft_alert', 'trigger: { type: core.webhook, parameters: { url: alerts } }', 'criteria: { ">": [{ var: payload.body.value }, 90] }', 'action:', '  ref: core.echo', '  parameters: { message: "at {{ payload.body.value }}%" }', ''].join('\n'),
    );
    writeFileSync(join(work, 'event.yaml'), 'payload: { body: { value: 97 } }\n');
    const draft = await cli(['rule', 'test', 'draft.yaml', '--event', 'event.yaml']);
    expect(draft.code).toBe(0);
    expect(draft.stdout).toContain('draft.draft_alert fires');
    expect(draft.stdout).toContain('message: at 97%');
  });

  it('keeps datastore values and secrets; secrets stay masked in listings, executions, output and logs', async () => {
    expect((await cli(['key', 'set', 'oncall', 'ana'])).code).toBe(0);
    expect((await cli(['--json', 'key', 'set', 'limits', '{"disk": 90}', '--pack', 'ops'])).json()).toMatchObject({ scope: 'pack:ops', value: { disk: 90 } });
    const secret = await cli(['--json', 'key', 'set', 'token', '-', '--secret', '--ttl', '1h'], { stdin: `${SECRET}\n` });
    expect(secret.json()).toMatchObject({ name: 'token', value: SECRET_MASK, secret: true });
    expect((await cli(['key', 'get', 'oncall'])).stdout).toBe('ana\n');
    expect((await cli(['--json', 'key', 'list'])).json<Array<{ name: string; value: unknown }>>()).toEqual([
      expect.objectContaining({ name: 'oncall', value: 'ana' }),
      expect.objectContaining({ name: 'token', value: SECRET_MASK }),
    ]);
    expect((await cli(['key', 'get', 'token', '--decrypt'], { showsSecret: true })).stdout).toBe(`${SECRET}\n`);

    const rule = {
      pack: 'ops',
      name: 'leaky',
      trigger: { type: 'core.webhook', parameters: { url: 'leaky' } },
      action: {
        ref: 'core.local',
        parameters: { cmd: 'sh', args: ['-c', 'echo "paging $1 over $2% with $3"', 'sh', '{{ kv.system.oncall }}', '{{ kv.pack.limits.disk }}', '{{ kv.system.token }}'] },
      },
    };
    writeFileSync(join(work, 'leaky.json'), JSON.stringify(rule));
    expect((await cli(['rule', 'apply', 'leaky.json'])).stdout).toBe('ops.leaky created\n');
    const res = await fetch(`${reflex.url}/v1/webhooks/leaky`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(202);
    const executions = await waitFor(async () => {
      const list = (await cli(['--json', 'execution', 'list', '--rule', 'ops.leaky'])).json<{ items: Array<{ id: string; status: string }> }>();
      return list.items[0]?.status === 'succeeded' ? list.items : undefined;
    }, 'the leaky execution');
    const id = executions[0]?.id ?? '';
    const got = (await cli(['--json', 'execution', 'get', id])).json<{ parameters: { args: string[] }; result: { stdout: string }; maskedParameters: string[] }>();
    expect(got.parameters.args).toEqual(['-c', 'echo "paging $1 over $2% with $3"', 'sh', 'ana', 90, SECRET_MASK]);
    expect(got.maskedParameters).toEqual(['args']);
    expect(got.result.stdout).toBe(`paging ana over 90% with ${SECRET_MASK}\n`);
    const tail = await cli(['execution', 'tail', id]);
    expect(tail.code).toBe(0);
    expect(tail.stdout).toContain(`paging ana over 90% with ${SECRET_MASK}`);
    // A re-run must be given the secret again: it is not stored.
    const rerun = await cli(['--json', 'execution', 're-run', id]);
    expect(rerun.code).toBe(1);
    expect(JSON.parse(rerun.stderr).error.details).toEqual([{ field: 'body.parameters.args', message: expect.stringContaining('datastore secret') }]);
    const again = await cli(['--json', 'execution', 're-run', id, 'args=["-c","echo again"]']);
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ status: 'succeeded', rerunOf: id, result: { stdout: 'again\n' } });

    for (const text of [...outputs, ...logLines]) expect(text).not.toContain(SECRET);
    expect(logLines.length).toBeGreaterThan(20);
  });

  it('sends and lists events, switches rules off and on, and manages API keys', async () => {
    const sent = await cli(['--json', 'event', 'send', 'core.interval', 'executed_at=2024-05-01T12:00:00Z', 'schedule={"delay":5}']);
    expect(sent.code).toBe(0);
    const { eventId } = sent.json<{ eventId: string }>();
    const event = await waitFor(async () => {
      const r = await cli(['--json', 'event', 'get', eventId]);
      return r.code === 0 ? r.json() : undefined;
    }, 'the event to be stored');
    expect(event).toMatchObject({ id: eventId, type: 'core.interval', source: 'api', payload: { schedule: { delay: 5 } } });
    expect((await cli(['--json', 'event', 'list', '--type', 'core.interval', '--since', '1h'])).json<{ items: Array<{ id: string }> }>().items.map((e) => e.id)).toContain(eventId);

    expect((await cli(['--json', 'rule', 'disable', 'greeter.greet_on_webhook'])).json()).toMatchObject({ enabled: false, source: 'pack' });
    expect((await cli(['--json', 'rule', 'list', '--disabled', '--pack', 'greeter'])).json<Array<{ ref: string }>>().map((r) => r.ref)).toEqual(['greeter.greet_on_webhook']);
    expect((await cli(['rule', 'enable', 'greeter.greet_on_webhook'])).stdout).toBe('greeter.greet_on_webhook enabled\n');

    const created = (await cli(['--json', 'apikey', 'create', 'grafana', '--role', 'operator'], { showsSecret: true })).json<{ id: string; key: string }>();
    expect(created.key).toMatch(/^rfx_/);
    expect((await cli(['--json', 'apikey', 'list'])).json<Array<{ name: string }>>().map((k) => k.name)).toContain('grafana');
    expect((await cli(['--json', 'apikey', 'revoke', created.id])).json()).toMatchObject({ id: created.id, revokedAt: expect.any(String) });
    expect((await cli(['whoami'], { env: { REFLEX_API_KEY: created.key } })).code).toBe(1);
  });

  it('fails with exit code 1 and a message naming what is wrong', async () => {
    const missing = await cli(['--json', 'key', 'get', 'nobody']);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stderr).error.code).toBe('NOT_FOUND');
    const scope = await cli(['key', 'set', 'x', '1', '--scope', 'chat.threads']);
    expect(scope.code).toBe(1);
    expect(scope.stderr).toContain('--scope must be system or pack:<name>');
    const params = await cli(['run', 'core.echo', 'nonsense']);
    expect(params.code).toBe(1);
    expect(params.stderr).toContain("'nonsense' is not a parameter: write name=value");
    const invalid = await cli(['--json', 'run', 'core.echo', 'message=3', 'colour=red']);
    expect(invalid.code).toBe(1);
    expect(JSON.parse(invalid.stderr).error.details).toEqual([{ field: 'body.parameters.colour', message: 'is not allowed' }]);
    const failed = await cli(['run', 'core.local', 'cmd=false']);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain('failed core.local');

    mkdirSync(join(work, 'broken', 'rules'), { recursive: true });
    writeFileSync(join(work, 'broken', 'pack.yaml'), 'name: broken\nversion: 0.1.0\n');
    writeFileSync(join(work, 'broken', 'rules', 'r.yaml'), 'name: r\ntrigger: { type: core.webhook }\naction:\n  ref: broken.nothing\n  parameters: { x: "{{ payload.x | nosuchfilter }}" }\n');
    const broken = await cli(['pack', 'validate', 'broken']);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toContain('✗ broken: 2 errors');
    expect(broken.stdout).toContain("broken/rules/r.yaml:4 action.ref: unknown action 'broken.nothing'");
    expect(broken.stdout).toMatch(/broken\/rules\/r\.yaml:5 action\.parameters\.x: .*nosuchfilter/);
    expect((await cli(['nonsense'])).code).toBe(1);
  });
});
