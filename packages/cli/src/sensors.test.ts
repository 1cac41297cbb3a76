/** `reflex sensor list|get` through the program, with a fake API. */
import { describe, expect, it } from 'vitest';
import type { SensorView } from '@reflex/model';
import type { CliContext } from './context.ts';
import { createProgram, runProgram } from './index.ts';

function buffer(): { write: (t: string) => boolean; isTTY: boolean; text: () => string } {
  let text = '';
  return { write: (t: string) => ((text += t), true), isTTY: false, text: () => text };
}

const running: SensorView = {
  ref: 'linux.host_metrics',
  pack: 'linux',
  name: 'host_metrics',
  entryPoint: 'sensors/host_metrics.ts',
  triggerTypes: ['linux.disk_usage', 'linux.load'],
  pollInterval: 60,
  enabled: true,
  status: {
    ref: 'linux.host_metrics',
    state: 'running',
    host: 'box1',
    holder: 'box1:42:ab12cd',
    supervisorPid: 42,
    pid: 4242,
    restarts: 1,
    lastError: { message: 'poll failed: EACCES', at: '2024-05-01T12:00:00.000Z' },
    pollErrors: 1,
    emitted: 12,
    refused: 0,
    lastEmitAt: '2024-05-01T12:01:00.000Z',
    startedAt: '2024-05-01T11:00:00.000Z',
    updatedAt: '2024-05-01T12:01:00.000Z',
  },
};
const unknown: SensorView = { ref: 'demo.watch', pack: 'demo', name: 'watch', entryPoint: 'sensors/w.ts', triggerTypes: ['demo.seen'], enabled: true, status: { state: 'unknown' } };

describe('reflex sensor', () => {
  const calls: string[] = [];
  const fakeFetch = (async (input: string | URL | Request) => {
    const url = String(input);
    calls.push(url);
    if (url.endsWith('/v1/sensors')) return new Response(JSON.stringify({ items: [running, unknown] }));
    if (url.endsWith('/v1/sensors/linux.host_metrics')) return new Response(JSON.stringify(running));
    return new Response(JSON.stringify({ error: { code: 'NOT_FOUND', message: "sensor 'x.y' not found", details: [] } }), { status: 404 });
  }) as typeof fetch;
  const run = async (argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const stdout = buffer();
    const stderr = buffer();
    const ctx: CliContext = {
      io: { stdout, stderr },
      settings: { defaultUrl: 'http://127.0.0.1:8180', dataDir: '/nowhere', noColor: true, cwd: '/nowhere', apiKey: 'rfx_env' },
      fetch: fakeFetch,
      exitCode: 0,
    };
    const code = await runProgram(createProgram(ctx), ctx, ['node', 'reflex', ...argv]);
    return { code, stdout: stdout.text(), stderr: stderr.text() };
  };

  it('lists sensors as a table, or as JSON', async () => {
    const table = await run(['sensor', 'list']);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^REF\s+STATE\s+HOST\s+PID\s+RESTARTS\s+EMITTED\s+LAST EMIT\s+LAST ERROR$/);
    expect(lines[1]).toMatch(/^linux\.host_metrics\s+running\s+box1\s+4242\s+1\s+12\s+2024-05-01 12:01:00\s+poll failed: EACCES$/);
    expect(lines[2]).toMatch(/^demo\.watch\s+unknown$/);
    expect(JSON.parse((await run(['--json', 'sensor', 'list'])).stdout)).toEqual([running, unknown]);
  });

  it('shows one sensor, and fails with the API error for an unknown one', async () => {
    const one = await run(['sensor', 'get', 'linux.host_metrics']);
    expect(one.stdout).toContain('state:         running');
    expect(one.stdout).toContain('holder:        box1:42:ab12cd');
    expect(one.stdout).toContain('last error:    poll failed: EACCES (2024-05-01 12:00:00)');
    const missing = await run(['sensor', 'get', 'x.y']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("sensor 'x.y' not found");
    expect(calls).toContain('http://127.0.0.1:8180/v1/sensors/x.y');
  });
});
