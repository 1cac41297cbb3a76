/**
 * The github pack end to end, one embedded process: the webhook url requires GitHub's HMAC signature
 * (set with `reflex webhook-auth set github --preset github --secret -`, as the pack's README says), a
 * signed workflow_run failure is accepted and posted to chat (the console), a wrong or missing
 * signature is a 401 that stores no event, and `reflex rule backtest` replays what was stored.
 */
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProgram, runProgram, type CliContext } from '@reflex/cli';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import type { BacktestReport, ReflexEvent } from '@reflex/model';
import { loadConfig } from '@reflex/runtime';
import { adminKeyOf, apiClient } from '../support/api-client.ts';
import { waitFor } from '../support/wait.ts';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));
const SECRET = 'gh-webhook-secret-0f9e8d7c6b5a';
const FIXTURES = join(PACKS, 'github', 'tests');

interface Execution {
  id: string;
  action: string;
  rule?: string;
  status: string;
  parameters: Record<string, unknown>;
}

const sign = (body: Buffer, secret = SECRET): string => `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;

describe('the github pack, embedded', () => {
  let dir: string;
  let reflex: Launched;
  let api: ReturnType<typeof apiClient>;
  let adminKey: string;
  const consoleLines: string[] = [];

  /** `reflex <args>` in this process, against the embedded API, with the admin key. */
  const reflexCli = async (args: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> => {
    let stdout = '';
    let stderr = '';
    const ctx: CliContext = {
      io: {
        stdout: { write: (t: string) => (stdout += t) },
        stderr: { write: (t: string) => (stderr += t) },
        ...(stdin === undefined ? {} : { stdin: (async function* () { yield stdin; })() }),
      },
      settings: { url: reflex.url ?? '', defaultUrl: reflex.url ?? '', apiKey: adminKey, dataDir: join(dir, 'data'), noColor: true, cwd: dir },
      exitCode: 0,
    };
    const code = await runProgram(createProgram(ctx), ctx, ['node', 'reflex', ...args]);
    return { code, stdout, stderr };
  };

  /** POST a delivery as GitHub sends it: the raw JSON bytes, its event name and (when given) the signature. */
  const deliver = async (body: Buffer, signature?: string): Promise<{ status: number; json: Record<string, unknown> }> => {
    const res = await fetch(new URL('/v1/webhooks/github', reflex.url ?? ''), {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'GitHub-Hookshot/8e03811',
        'x-github-event': 'workflow_run',
        'x-github-delivery': '72d3162e-cc78-11e3-81ab-4c9367dc0958',
        ...(signature === undefined ? {} : { 'x-hub-signature-256': signature }),
      },
      body,
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  const storedEvents = async (): Promise<ReflexEvent[]> => (await api.get<{ items: ReflexEvent[] }>('/v1/events?type=github.workflow_run')).body.items;
  const chatPosts = async (): Promise<Execution[]> => (await api.get<{ items: Execution[] }>('/v1/executions?action=chat.post')).body.items;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-github-'));
    // Only the packs this needs: others on the path are not this test's business.
    const packsPaths = ['core', 'chat', 'github'].map((p) => join(PACKS, p));
    const config = loadConfig({}, { port: 0, dataDir: join(dir, 'data'), configDir: join(dir, 'config'), packsPaths, logLevel: 'silent' });
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'silent' }), { consoleSink: { write: (line: string) => consoleLines.push(line) } });
    adminKey = adminKeyOf(join(dir, 'data'));
    api = apiClient(reflex.url ?? '', adminKey);
  });

  afterAll(async () => {
    await reflex?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('requires the signature once webhook-auth is set, as the README says', async () => {
    const set = await reflexCli(['webhook-auth', 'set', 'github', '--preset', 'github', '--secret', '-'], `${SECRET}\n`);
    expect(set, set.stderr).toMatchObject({ code: 0, stdout: '/v1/webhooks/github now requires x-hub-signature-256: sha256=<hex HMAC-SHA256 of the body>\n' });
    const list = await reflexCli(['--json', 'webhook-auth', 'list']);
    expect(JSON.parse(list.stdout)).toEqual([expect.objectContaining({ url: 'github', type: 'hmac', header: 'x-hub-signature-256', prefix: 'sha256=', hasSecret: true })]);
    expect(list.stdout).not.toContain(SECRET);
  });

  it('a signed workflow_run failure is accepted and posted to chat', async () => {
    const body = readFileSync(join(FIXTURES, 'workflow_run_failed.json'));
    const res = await deliver(body, sign(body));
    expect(res.status, JSON.stringify(res.json)).toBe(202);
    expect(res.json['eventIds']).toHaveLength(1);

    const [post] = await waitFor(async () => {
      const posts = await chatPosts();
      return posts.length === 1 && posts[0]?.status === 'succeeded' ? posts : undefined;
    }, 'the chat.post execution');
    expect(post).toMatchObject({ rule: 'github.failed_workflow_to_chat', parameters: { target: 'console', title: 'acme/payments-api: CI failed on main', severity: 'error' } });
    const line = await waitFor(async () => consoleLines.find((l) => l.includes('CI failed on main')), 'the console message');
    expect(line).toContain('acme/payments-api');
  });

  it('a successful run, signed, is accepted and posts nothing', async () => {
    const body = readFileSync(join(FIXTURES, 'workflow_run_success.json'));
    expect((await deliver(body, sign(body))).status).toBe(202);
    await waitFor(async () => ((await storedEvents()).length === 2 ? true : undefined), 'the stored success event');
    // A rule that does not match leaves no record to wait for: give the engine a moment (the last test looks again).
    await new Promise((r) => setTimeout(r, 300));
    expect(await chatPosts()).toHaveLength(1);
  });

  it('a wrong or missing signature is a 401, and no event is stored', async () => {
    const body = readFileSync(join(FIXTURES, 'workflow_run_failed.json'));
    const wrong = await deliver(body, sign(body, 'not-the-secret-at-all'));
    expect(wrong.status).toBe(401);
    const tampered = Buffer.from(body.toString('utf8').replace('"failure"', '"success"'));
    expect((await deliver(tampered, sign(body))).status).toBe(401);
    expect((await deliver(body)).status).toBe(401);
    expect(await storedEvents()).toHaveLength(2);
    const stats = (await api.get<{ items: Array<{ url: string; accepted: number; rejected: Record<string, number> }> }>('/v1/webhooks/stats')).body.items;
    expect(stats.find((s) => s.url === 'github')).toMatchObject({ auth: 'hmac', accepted: 2, rejected: { bad: 2, missing: 1 } });
  });

  it('reflex rule backtest replays the stored deliveries: one would fire, nothing new runs', async () => {
    const run = await reflexCli(['--json', 'rule', 'backtest', 'github.failed_workflow_to_chat', '--since', '1h']);
    expect(run.code, run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as BacktestReport;
    expect(report).toMatchObject({ rule: 'github.failed_workflow_to_chat', scanned: 2, considered: 2, matched: 1, wouldFire: 1 });
    expect(report.entries.map((e) => e.outcome)).toEqual(['fired', 'no_match']);
    const table = await reflexCli(['rule', 'backtest', 'github.failed_workflow_to_chat', '--since', '1h', '--show', 'fired']);
    expect(table.stdout).toContain('chat.post target=console, title=acme/payments-api: CI failed on main');
    expect(table.stdout).toContain('would fire 1 (1 no match)');
    expect(await chatPosts()).toHaveLength(1);
  });
});
