import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { validateUser, type JsonObject } from '@reflex/model';
import { loadPack } from '@reflex/packs';
import { builtinRunners } from '@reflex/runners';
import { describe, expect, it } from 'vitest';

describe('the core pack', () => {
  it('loads with zero errors', async () => {
    const pack = await loadPack(import.meta.dirname);
    expect(pack.errors).toEqual([]);
    expect(pack.manifest).toMatchObject({ name: 'core', version: '0.1.0' });
    expect(pack.triggerTypes.map((t) => t.ref)).toEqual(['core.interval', 'core.webhook']);
    expect(pack.actions.map((a) => [a.ref, a.runner])).toEqual([
      ['core.echo', 'echo'],
      ['core.http', 'http-request'],
      ['core.local', 'local-shell-cmd'],
      ['core.noop', 'noop'],
    ]);
  });

  it('has trigger and action schemas that accept and refuse what they should', async () => {
    const pack = await loadPack(path.resolve(import.meta.dirname));
    const schema = (ref: string, which: 'parametersSchema' | 'payloadSchema') => {
      const found = pack.triggerTypes.find((t) => t.ref === ref)?.[which];
      if (found === undefined) throw new Error(`${ref} has no ${which}`);
      return found;
    };
    const ok = (s: Record<string, unknown>, data: unknown) => () => validateUser(s, data, 'x', 'x');

    expect(ok(schema('core.webhook', 'parametersSchema'), { url: 'github/push' })).not.toThrow();
    expect(ok(schema('core.webhook', 'parametersSchema'), { url: '/abs' })).toThrow();
    expect(ok(schema('core.webhook', 'parametersSchema'), {})).toThrow();
    expect(ok(schema('core.webhook', 'payloadSchema'), { body: { a: 1 }, headers: { 'x-a': 'b' }, query: {} })).not.toThrow();
    expect(ok(schema('core.webhook', 'payloadSchema'), { body: null, headers: { 'X-A': 'b' }, query: {} })).toThrow();

    const interval = { delay: 5 };
    expect(ok(schema('core.interval', 'parametersSchema'), interval)).not.toThrow();
    expect(interval).toEqual({ delay: 5, unit: 'seconds' });
    expect(ok(schema('core.interval', 'parametersSchema'), { delay: 0 })).toThrow();
    expect(ok(schema('core.interval', 'parametersSchema'), { delay: 1, unit: 'weeks' })).toThrow();
    expect(ok(schema('core.interval', 'payloadSchema'), { executed_at: '2030-01-01T00:00:00Z', schedule: interval })).not.toThrow();

    const echo = pack.actions.find((a) => a.ref === 'core.echo')?.parametersSchema ?? {};
    expect(ok(echo, { message: 'hi' })).not.toThrow();
    expect(ok(echo, {})).toThrow();
    const noop = pack.actions.find((a) => a.ref === 'core.noop')?.parametersSchema ?? {};
    expect(ok(noop, {})).not.toThrow();
    expect(ok(noop, { x: 1 })).toThrow();

    const local = pack.actions.find((a) => a.ref === 'core.local')?.parametersSchema ?? {};
    const cmd = { cmd: 'ls' };
    expect(ok(local, cmd)).not.toThrow();
    expect(cmd).toEqual({ cmd: 'ls', args: [], shell: false, env: {}, timeout: 60 });
    expect(ok(local, { cmd: 'ls', args: ['-l', 3, true], env: { A_1: 'x', B: null }, cwd: '/tmp', stdin: 'x', timeout: 0.5 })).not.toThrow();
    expect(ok(local, {})).toThrow();
    expect(ok(local, { cmd: '' })).toThrow();
    expect(ok(local, { cmd: 'ls', args: [{ a: 1 }] })).toThrow();
    expect(ok(local, { cmd: 'ls', env: { 'NOT-A-NAME': 'x' } })).toThrow();
    expect(ok(local, { cmd: 'ls', timeout: 0 })).toThrow();

    const http = pack.actions.find((a) => a.ref === 'core.http')?.parametersSchema ?? {};
    const get = { url: 'https://example.com/x' };
    expect(ok(http, get)).not.toThrow();
    expect(get).toEqual({ url: 'https://example.com/x', method: 'GET', headers: {}, query: {}, timeout: 60, follow_redirects: true });
    expect(ok(http, { url: 'http://h/', method: 'POST', body: { any: ['json'] }, query: { a: [1, 'b'] }, expected_status: [200, 404] })).not.toThrow();
    expect(ok(http, { url: 'ftp://h/' })).toThrow();
    expect(ok(http, { url: 'http://h/', method: 'FETCH' })).toThrow();
    expect(ok(http, { url: 'http://h/', expected_status: [99] })).toThrow();
  });

  it('names only runners that Reflex ships', async () => {
    const pack = await loadPack(import.meta.dirname);
    const shipped = builtinRunners().map((r) => r.name);
    for (const action of pack.actions) expect(shipped, action.ref).toContain(action.runner);
  });

  it('runs core.local and core.http through their runners with the schema defaults applied', async () => {
    const pack = await loadPack(import.meta.dirname);
    const runners = new Map(builtinRunners().map((r) => [r.name, r]));
    const execute = async (ref: string, parameters: JsonObject) => {
      const action = pack.actions.find((a) => a.ref === ref);
      if (action === undefined) throw new Error(`no ${ref}`);
      validateUser(action.parametersSchema, parameters, 'parameters', ref);
      const runner = runners.get(action.runner);
      if (runner === undefined) throw new Error(`no runner ${action.runner}`);
      const request = { executionId: 'x', action: ref, runner: action.runner, pack: 'core', parameters, traceId: 't' };
      return runner.run(request, { signal: new AbortController().signal, packDir: import.meta.dirname });
    };
    expect(await execute('core.local', { cmd: 'echo', args: ['$(id)', '; ls'] })).toMatchObject({ exitCode: 0, stdout: '$(id) ; ls\n' });

    const server = createServer((req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url })));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/ping`;
      expect(await execute('core.http', { url, query: { q: 'a b' } })).toMatchObject({ status: 200, body: { path: '/ping?q=a+b' } });
    } finally {
      server.close();
    }
  });
});
