/** `reflex pack delete|unregister` and `reflex pack config`, against a fake API (the calls they make, what they print). */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliContext } from './context.ts';
import { createProgram, runProgram } from './index.ts';

function buffer(): { write: (t: string) => boolean; isTTY: boolean; text: () => string } {
  let text = '';
  return { write: (t: string) => ((text += t), true), isTTY: false, text: () => text };
}

const json = (body: unknown, status = 200): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('pack delete and pack config', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'reflex-cli-packs-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));

  const calls: Array<{ method: string; path: string; body?: unknown }> = [];
  let stored: Record<string, unknown> = { api_key: '********', timeout: 30 };
  const fakeFetch = (async (input: string | URL | Request, init?: RequestInit) => {
    const path = new URL(String(input)).pathname;
    const method = init?.method ?? 'GET';
    const body = typeof init?.body === 'string' ? (JSON.parse(init.body) as unknown) : undefined;
    calls.push({ method, path, ...(body === undefined ? {} : { body }) });
    if (method === 'DELETE' && path === '/v1/packs/demo') return json({ pack: 'demo', removed: { triggerTypes: 1, actions: 2, rules: 1 } });
    if (method === 'DELETE' && path === '/v1/packs/core') {
      return json({ error: { code: 'PACK_IN_USE', message: "pack 'core' is a dependency of 'alerting': unregister it first", details: [] } }, 409);
    }
    if (method === 'GET' && path === '/v1/packs/monitoring/config') return json({ pack: 'monitoring', values: stored });
    if (method === 'GET' && path === '/v1/packs/monitoring') {
      return json({ name: 'monitoring', configSchema: { type: 'object', properties: { api_key: { type: 'string', secret: true }, timeout: { type: 'integer' }, zone: { type: 'string' } } } });
    }
    if (method === 'PUT' && path === '/v1/packs/monitoring/config') {
      stored = { ...(body as Record<string, unknown>), api_key: '********' };
      return json({ pack: 'monitoring', values: stored });
    }
    return json({ error: { code: 'NOT_FOUND', message: `no route ${method} ${path}`, details: [] } }, 404);
  }) as typeof fetch;

  const run = async (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const stdout = buffer();
    const stderr = buffer();
    const ctx: CliContext = {
      io: { stdout, stderr },
      settings: { defaultUrl: 'http://api.test:1', dataDir: cwd, noColor: true, cwd, apiKey: 'rfx_test' },
      fetch: fakeFetch,
      exitCode: 0,
    };
    const code = await runProgram(createProgram(ctx), ctx, ['node', 'reflex', ...argv]);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };

  it('unregisters a pack (delete, or its alias unregister), and says why it cannot', async () => {
    expect(await run(['pack', 'delete', 'demo'])).toEqual({ code: 0, stdout: 'demo unregistered: 1 trigger type, 2 actions, 1 rule removed\n', stderr: '' });
    const asJson = await run(['--json', 'pack', 'unregister', 'demo']);
    expect(asJson.code).toBe(0);
    expect(JSON.parse(asJson.stdout)).toEqual({ pack: 'demo', removed: { triggerTypes: 1, actions: 2, rules: 1 } });
    const refused = await run(['--json', 'pack', 'delete', 'core']);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stderr).error.code).toBe('PACK_IN_USE');
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['DELETE /v1/packs/demo', 'DELETE /v1/packs/demo', 'DELETE /v1/packs/core']);
  });

  it('shows the values, sets some with --set (text for string properties), replaces them all with --file', async () => {
    calls.length = 0;
    expect(await run(['pack', 'config', 'monitoring'])).toEqual({ code: 0, stdout: 'api_key: "********"\ntimeout: 30\n', stderr: '' });

    const set = await run(['--json', 'pack', 'config', 'monitoring', '--set', 'timeout=5', 'zone=007']);
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ pack: 'monitoring', values: { api_key: '********', timeout: 5, zone: '007' } });
    // The masked secret goes back as ********: the API keeps the stored value.
    expect(calls.at(-1)).toEqual({ method: 'PUT', path: '/v1/packs/monitoring/config', body: { api_key: '********', timeout: 5, zone: '007' } });

    writeFileSync(join(cwd, 'values.yaml'), 'api_key: new-key\ntimeout: 9\n');
    const file = await run(['pack', 'config', 'monitoring', '--file', 'values.yaml']);
    expect(file.code).toBe(0);
    expect(calls.at(-1)).toEqual({ method: 'PUT', path: '/v1/packs/monitoring/config', body: { api_key: 'new-key', timeout: 9 } });

    writeFileSync(join(cwd, 'list.yaml'), '- a\n');
    const notMapping = await run(['pack', 'config', 'monitoring', '--file', 'list.yaml']);
    expect(notMapping.code).toBe(1);
    expect(notMapping.stderr).toContain('list.yaml must hold a mapping');
  });
});
