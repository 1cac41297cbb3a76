/**
 * `reflex rule backtest` and `reflex webhook-auth`, run through the program with a fake fetch: what
 * they send, what they print, and the usage errors they catch before calling the API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BacktestReport } from '@reflex/model';
import type { CliContext } from '../context.ts';
import { createProgram, runProgram } from '../index.ts';

function buffer(): { write: (t: string) => boolean; isTTY: boolean; text: () => string } {
  let text = '';
  return { write: (t: string) => ((text += t), true), isTTY: false, text: () => text };
}

const report: BacktestReport = {
  rule: 'demo.disk',
  draft: false,
  enabled: true,
  triggerType: 'core.webhook',
  since: '2024-05-01T10:00:00.000Z',
  until: '2024-05-01T12:00:00.000Z',
  scanned: 7,
  limited: false,
  considered: 6,
  matched: 5,
  wouldFire: 1,
  counts: { fired: 1, failed: 0, no_match: 1, throttled: 4, grouped: 0, silenced: 0 },
  entries: [
    { kind: 'event', at: '2024-05-01T11:00:00.000Z', eventId: 'evt-1', occurredAt: '2024-05-01T11:00:00.000Z', outcome: 'fired', reason: 'first event', action: 'core.echo', parameters: { message: 'db1 at 97%' } },
    { kind: 'event', at: '2024-05-01T11:01:00.000Z', eventId: 'evt-2', occurredAt: '2024-05-01T11:01:00.000Z', outcome: 'throttled', reason: 'once_within: suppressed until 11:10' },
  ],
  omitted: 4,
  pending: [],
  notes: ['inhibitions are not simulated'],
};

interface Call {
  method: string;
  url: string;
  body: unknown;
}

describe('reflex rule backtest and webhook-auth', () => {
  let dir: string;
  const calls: Call[] = [];
  let answer: { status: number; body: unknown } = { status: 200, body: report };

  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    calls.push({ method: init?.method ?? 'GET', url: String(input), body: init?.body === undefined ? undefined : JSON.parse(String(init.body)) });
    return new Response(answer.body === null ? null : JSON.stringify(answer.body), { status: answer.status });
  }) as typeof fetch;

  const run = async (argv: string[], stdin?: string): Promise<{ code: number; stdout: string; stderr: string }> => {
    const stdout = buffer();
    const stderr = buffer();
    const ctx: CliContext = {
      io: { stdout, stderr, ...(stdin === undefined ? {} : { stdin: (async function* () { yield stdin; })() }) },
      settings: { defaultUrl: 'http://api.test', dataDir: dir, noColor: true, cwd: dir, apiKey: 'rfx_test' },
      fetch: fakeFetch,
      exitCode: 0,
    };
    const code = await runProgram(createProgram(ctx), ctx, ['node', 'reflex', ...argv]);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-backtest-cli-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('backtests a saved rule: one POST, a table, and a summary line', async () => {
    calls.length = 0;
    const { code, stdout, stderr } = await run(['rule', 'backtest', 'demo.disk', '--since', '2h']);
    expect(code).toBe(0);
    expect(calls).toEqual([{ method: 'POST', url: 'http://api.test/v1/rules/backtest', body: { rule: 'demo.disk', since: '7200s' } }]);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+EVENT\s+OUTCOME\s+ACTION \/ WHY$/);
    expect(lines[1]).toMatch(/^2024-05-01 11:00:00\s+evt-1\s+fired\s+core\.echo message=db1 at 97%$/);
    expect(lines[2]).toMatch(/throttled\s+once_within: suppressed until 11:10$/);
    expect(lines[3]).toBe(
      'demo.disk from 2024-05-01 10:00:00 to 2024-05-01 12:00:00: 7 events scanned, 6 for its trigger, 5 matched, would fire 1 (4 throttled, 1 no match)',
    );
    expect(stderr).toContain('4 more entries not shown');
    expect(stderr).toContain('note: inhibitions are not simulated');
  });

  it('backtests a draft file (pack spelling), with the options, as JSON', async () => {
    calls.length = 0;
    writeFileSync(
      join(dir, 'draft.yaml'),
      [
        'name: grouped',
        'trigger: { type: core.webhook, parameters: { url: alerts } }',
        'group: { group_by: [payload.body.host], group_wait: 30s }',
        'action: { ref: core.echo, parameters: { message: hi } }',
      ].join('\n'),
    );
    const { code, stdout } = await run(['--json', 'rule', 'backtest', '--file', 'draft.yaml', '--pack', 'demo', '--since', '24h', '--until', '1h', '--limit', '500', '--show', 'fired', '-n', '5']);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toEqual(report);
    expect(calls[0]?.body).toEqual({
      draft: {
        pack: 'demo',
        name: 'grouped',
        enabled: true,
        trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
        group: { groupBy: ['payload.body.host'], groupWait: '30s' },
        action: { ref: 'core.echo', parameters: { message: 'hi' } },
      },
      since: '86400s',
      until: '3600s',
      limit: 500,
      show: 'fired',
      maxEntries: 5,
    });
    // A file given as RULE is a draft too.
    await run(['rule', 'backtest', 'draft.yaml']);
    expect(calls[1]?.body).toMatchObject({ draft: { pack: 'draft', name: 'grouped' }, since: '86400s' });
  });

  it('catches usage errors before calling, and shows the API’s field errors', async () => {
    calls.length = 0;
    expect((await run(['rule', 'backtest'])).stderr).toContain('give the rule as RULE');
    expect((await run(['rule', 'backtest', 'demo.disk', '--file', 'draft.yaml'])).code).toBe(1);
    expect((await run(['rule', 'backtest', 'demo.disk', '--show', 'some'])).stderr).toContain('--show must be one of all, matched, fired');
    expect((await run(['rule', 'backtest', 'demo.disk', '--limit', '0'])).stderr).toContain('--limit must be a whole number');
    expect(calls).toEqual([]);
    answer = { status: 400, body: { error: { code: 'VALIDATION_FAILED', message: 'body.since is neither a duration nor a time', details: [{ field: 'body.since', message: 'bad' }] } } };
    const bad = await run(['rule', 'backtest', 'demo.disk', '--since', 'yesterday']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('body.since: bad');
    answer = { status: 200, body: report };
  });

  it('webhook-auth: sets GitHub HMAC auth with the secret from stdin, lists, gets and deletes', async () => {
    calls.length = 0;
    const view = { url: 'github', type: 'hmac', header: 'x-hub-signature-256', algorithm: 'sha256', prefix: 'sha256=', encoding: 'hex', hasSecret: true, createdAt: 't', updatedAt: '2024-05-01T12:00:00.000Z' };
    answer = { status: 201, body: view };
    const set = await run(['webhook-auth', 'set', 'github', '--preset', 'github', '--secret', '-'], 'a-secret-of-sixteen-chars\n');
    expect(set.code).toBe(0);
    expect(calls[0]).toEqual({ method: 'PUT', url: 'http://api.test/v1/webhook-auth/github', body: { type: 'hmac', secret: 'a-secret-of-sixteen-chars', preset: 'github' } });
    expect(set.stdout).toBe('/v1/webhooks/github now requires x-hub-signature-256: sha256=<hex HMAC-SHA256 of the body>\n');

    await run(['webhook-auth', 'set', 'ci/hooks', 'token', '--secret', 'sixteen-chars-token', '--header', 'X-Token']);
    expect(calls[1]).toMatchObject({ url: 'http://api.test/v1/webhook-auth/ci/hooks', body: { type: 'token', token: 'sixteen-chars-token', header: 'X-Token' } });

    answer = { status: 200, body: { items: [view] } };
    const list = await run(['webhook-auth', 'list']);
    expect(list.stdout).toMatch(/^URL\s+TYPE\s+UPDATED\s+THE SENDER SENDS\ngithub\s+hmac\s+2024-05-01 12:00:00\s+x-hub-signature-256/);
    answer = { status: 200, body: view };
    expect((await run(['webhook-auth', 'get', 'github'])).stdout).toContain('hasSecret: true');
    answer = { status: 204, body: null };
    expect((await run(['webhook-auth', 'delete', 'github'])).stdout).toBe('/v1/webhooks/github is open again\n');
    expect(calls.at(-1)).toMatchObject({ method: 'DELETE', url: 'http://api.test/v1/webhook-auth/github' });

    const before = calls.length;
    expect((await run(['webhook-auth', 'set', 'github', 'apikey', '--secret', 'x'])).stderr).toContain('an apikey url takes no --secret');
    expect((await run(['webhook-auth', 'set', 'github', 'hmac'])).stderr).toContain('needs --secret');
    expect((await run(['webhook-auth', 'set', 'github', 'token', '--secret', 'abcdefghijklmnopq', '--preset', 'slack'])).stderr).toContain('takes no --preset');
    expect((await run(['webhook-auth', 'set', 'github'])).stderr).toContain('apikey, token or hmac');
    expect(calls.length).toBe(before);
    answer = { status: 200, body: report };
  });
});
