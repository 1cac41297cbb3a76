/**
 * Action policies across processes on a real NATS JetStream: two `reflex start action-runner`
 * processes share the work; a concurrency limit holds across both, retries happen exactly as
 * configured, and killing a runner mid-action leaves nothing stuck in `running`.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminKeyOf, apiClient } from '../support/api-client.ts';
import { freePort } from '../support/nats-server.ts';
import { startReflex, type ReflexProcess } from '../support/reflex-process.ts';
import { waitFor } from '../support/wait.ts';

const CORE_PACKS = fileURLToPath(new URL('../../packs', import.meta.url));

interface Execution {
  id: string;
  status: string;
  attempt: number;
  host?: string;
  startedAt?: string;
  finishedAt?: string;
  error?: { code: string };
  history: Array<{ status: string; attempt?: number }>;
}

const PACK = {
  'pack.yaml': 'name: e2eops\nversion: 0.1.0\ndescription: actions with policies for the end-to-end tests\n',
  'actions/slow.yaml': `name: slow
runner_type: local-shell-cmd
parameters:
  cmd: { type: string, default: sleep }
  args: { type: array, default: ["0.4"] }
  n: { type: integer }
policies:
  concurrency: { limit: 2 }
`,
  'actions/flaky.yaml': `name: flaky
runner_type: local-shell-cmd
description: fails until it has been called three times (counts in the file it is given)
parameters:
  cmd: { type: string, default: 'n=$(cat "$1" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$1"; echo "attempt $n"; [ "$n" -ge 3 ]' }
  shell: { type: boolean, default: true }
  args: { type: array }
policies:
  retry: { max_attempts: 3, delay_ms: 50, jitter: false }
`,
  'actions/stuck.yaml': `name: stuck
runner_type: local-shell-cmd
parameters:
  cmd: { type: string, default: sleep }
  args: { type: array, default: ["20"] }
`,
};

describe('action policies on NATS with two runner processes', () => {
  const processes: ReflexProcess[] = [];
  let dir: string;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-actions-'));
    for (const [file, text] of Object.entries(PACK)) {
      mkdirSync(join(dir, 'packs', 'e2eops', file, '..'), { recursive: true });
      writeFileSync(join(dir, 'packs', 'e2eops', file), text);
    }
    const port = await freePort();
    const env = {
      NATS_URL: inject('natsUrl'),
      REFLEX_BUS_PREFIX: `e2ea${randomBytes(4).toString('hex')}`,
      REFLEX_DATA_DIR: join(dir, 'data'),
      REFLEX_PACKS_PATH: `${CORE_PACKS}:${join(dir, 'packs')}`,
      REFLEX_PORT: String(port),
      REFLEX_RUNNER_ACK_WAIT_SECONDS: '2',
    };
    for (const services of [['api'], ['action-runner'], ['action-runner']]) {
      const proc = startReflex(services, env);
      processes.push(proc);
      await proc.waitForLog('Reflex ready');
    }
    api = apiClient(`http://127.0.0.1:${port}`, adminKeyOf(join(dir, 'data')));
    expect((await api.get('/v1/actions/e2eops.slow')).status).toBe(200);
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    rmSync(dir, { recursive: true, force: true });
  });

  const run = async (action: string, parameters: Record<string, unknown> = {}): Promise<string> => {
    const res = await api.post<{ id: string }>('/v1/executions', { action, parameters });
    expect(res.status).toBe(201);
    return res.body.id;
  };
  const finished = (id: string, timeoutMs = 30_000): Promise<Execution> =>
    waitFor(async () => {
      const e = (await api.get<Execution>(`/v1/executions/${id}`)).body;
      return ['succeeded', 'failed', 'timeout', 'canceled'].includes(e.status) ? e : undefined;
    }, `execution ${id} to finish`, timeoutMs, 100);

  it('holds a concurrency limit of 2 across both runner processes', async () => {
    const ids: string[] = [];
    for (let n = 0; n < 8; n++) ids.push(await run('e2eops.slow', { n }));
    const done = await Promise.all(ids.map((id) => finished(id)));
    expect(done.every((e) => e.status === 'succeeded')).toBe(true);
    // At no instant were more than two attempts running.
    const edges = done.flatMap((e) => [
      { at: Date.parse(e.startedAt ?? ''), d: 1 },
      { at: Date.parse(e.finishedAt ?? ''), d: -1 },
    ]);
    edges.sort((a, b) => a.at - b.at || a.d - b.d);
    let running = 0;
    let peak = 0;
    for (const edge of edges) peak = Math.max(peak, (running += edge.d));
    expect(peak).toBeLessThanOrEqual(2);
    expect(peak).toBe(2);
    // Both processes took part.
    expect(new Set(done.map((e) => e.host)).size).toBe(2);
  }, 60_000);

  it('retries exactly as configured: two failed attempts, the third succeeds', async () => {
    const counter = join(dir, 'flaky-counter');
    const done = await finished(await run('e2eops.flaky', { args: [counter] }));
    expect(done.status).toBe('succeeded');
    expect(done.attempt).toBe(3);
    expect(done.history.filter((h) => h.status === 'running').map((h) => h.attempt)).toEqual([1, 2, 3]);
    expect(done.history.filter((h) => h.status === 'delayed')).toHaveLength(2);
  }, 60_000);

  it('fails an attempt whose runner was killed instead of leaving it running', async () => {
    const id = await run('e2eops.stuck');
    const running = await waitFor(async () => {
      const e = (await api.get<Execution>(`/v1/executions/${id}`)).body;
      return e.status === 'running' ? e : undefined;
    }, 'the stuck action to start');
    const pid = Number(running.host?.split('/').at(-1));
    const victim = processes.find((p) => p.child.pid === pid);
    expect(victim).toBeDefined();
    await victim?.kill('SIGKILL');
    const done = await finished(id);
    expect(done.status).toBe('failed');
    expect(done.error?.code).toBe('ABANDONED');
  }, 60_000);
});
