/**
 * The spine across separate processes on a real NATS JetStream: `reflex start api`,
 * `reflex start rules-engine` and `reflex start action-runner` as their own processes, sharing
 * one bus (own stream prefix per run) and one store. Then the crash test: a rules engine is
 * killed mid-stream (SIGKILL) and a new one takes over; every event yields exactly one execution.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { adminKeyOf, apiClient, diskAlertRule } from '../support/api-client.ts';
import { freePort } from '../support/nats-server.ts';
import { startReflex, type ReflexProcess } from '../support/reflex-process.ts';
import { waitFor } from '../support/wait.ts';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));

interface Execution {
  id: string;
  status: string;
  eventId?: string;
  result?: { message?: string };
}

describe('event spine on NATS JetStream, one process per service', () => {
  const processes: ReflexProcess[] = [];
  let dataDir: string;
  let env: Record<string, string>;
  let api: ReturnType<typeof apiClient>;

  const start = async (services: string[]): Promise<ReflexProcess> => {
    const proc = startReflex(services, env);
    processes.push(proc);
    await proc.waitForLog('Reflex ready');
    return proc;
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'reflex-e2e-nats-'));
    const port = await freePort();
    env = {
      NATS_URL: inject('natsUrl'),
      REFLEX_BUS_PREFIX: `e2e${randomBytes(4).toString('hex')}`,
      REFLEX_DATA_DIR: dataDir,
      REFLEX_PACKS_PATH: PACKS,
      REFLEX_PORT: String(port),
      REFLEX_ACK_WAIT_SECONDS: '2',
    };
    await start(['api']);
    await start(['action-runner']);
    await start(['rules-engine']);
    api = apiClient(`http://127.0.0.1:${port}`, adminKeyOf(dataDir));
  }, 60_000);

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.kill('SIGKILL')));
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the README example across processes', async () => {
    expect((await api.post('/v1/rules', diskAlertRule)).status).toBe(201);
    const accepted = await api.post<{ eventId: string }>('/v1/webhooks/alerts', { status: 'firing', host: 'db1', value: 97 });
    expect(accepted.status).toBe(202);
    const execution = await waitFor(async () => {
      const res = await api.get<{ items: Execution[] }>('/v1/executions?action=core.echo');
      const found = res.body.items.find((e) => e.eventId === accepted.body.eventId);
      return found?.status === 'succeeded' ? found : undefined;
    }, 'the execution to succeed across processes');
    expect(execution.result?.message).toBe('db1 disk at 97%');
  });

  it('loses and doubles nothing when a rules engine is killed mid-stream', async () => {
    const rule = { ...diskAlertRule, name: 'crash_test', trigger: { type: 'core.webhook', parameters: { url: 'crash' } }, criteria: true, action: { ref: 'core.noop' } };
    expect((await api.post('/v1/rules', rule)).status).toBe(201);

    const total = 300;
    const eventIds: string[] = [];
    const send = async (from: number, to: number): Promise<void> => {
      // Ten at a time: enough to keep the engine busy, little enough for 2 cores.
      for (let i = from; i < to; i += 10) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(10, to - i) }, (_, k) => api.post<{ eventId: string }>('/v1/webhooks/crash', { n: i + k })),
        );
        for (const res of batch) {
          expect(res.status).toBe(202);
          eventIds.push(res.body.eventId);
        }
      }
    };

    const countFired = async (): Promise<Execution[]> => {
      const all: Execution[] = [];
      let cursor: string | null = null;
      do {
        const page: { body: { items: Execution[]; nextCursor: string | null } } = await api.get(
          `/v1/executions?rule=demo.crash_test&limit=1000${cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`}`,
        );
        all.push(...page.body.items);
        cursor = page.body.nextCursor;
      } while (cursor !== null);
      return all;
    };

    const victim = processes.find((p) => p.output().includes('"rules-engine"')) as ReflexProcess;
    // Kill the engine while events are still arriving and being worked through.
    const sending = send(0, total);
    await waitFor(async () => (eventIds.length >= 100 ? true : undefined), 'the first 100 webhooks');
    await victim.kill('SIGKILL');
    await sending;
    await start(['rules-engine']);

    const executions = await waitFor(async () => {
      const all = await countFired();
      return all.length >= total && all.every((e) => e.status === 'succeeded') ? all : undefined;
    }, `${total} succeeded executions after the crash`, 60_000, 250);

    // Give redeliveries a moment to (wrongly) create doubles, then count again.
    await new Promise((r) => setTimeout(r, 2500));
    const final = await countFired();
    expect(final.length).toBe(total);
    expect(new Set(final.map((e) => e.eventId))).toEqual(new Set(eventIds));
    expect(new Set(executions.map((e) => e.id)).size).toBe(total);
  }, 120_000);
});
