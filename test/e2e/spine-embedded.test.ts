/**
 * The README example, end to end in one process on the embedded defaults: create a rule over the
 * API, POST a webhook, see the execution succeed with the rendered message.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import { loadConfig } from '@reflex/runtime';
import { adminKeyOf, apiClient, diskAlertRule } from '../support/api-client.ts';
import { waitFor } from '../support/wait.ts';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));

interface Execution {
  id: string;
  status: string;
  result?: { message?: string };
  rule?: string;
  eventId?: string;
  traceId: string;
}

describe('event spine, embedded (one process)', () => {
  let dataDir: string;
  let reflex: Launched;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'reflex-e2e-'));
    const config = loadConfig({}, { port: 0, dataDir, packsPaths: [PACKS], logLevel: 'silent' });
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'silent' }));
    api = apiClient(reflex.url ?? '', adminKeyOf(dataDir));
  });

  afterAll(async () => {
    await reflex?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('runs the README example: rule → webhook → succeeded execution', async () => {
    const created = await api.post('/v1/rules', diskAlertRule);
    expect(created.status).toBe(201);

    const accepted = await api.post<{ eventId: string; traceId: string }>(
      '/v1/webhooks/alerts',
      { status: 'firing', host: 'db1', value: 97 },
      { 'x-reflex-trace': 'trace-readme-1' },
    );
    expect(accepted.status).toBe(202);
    expect(accepted.body.eventId).toMatch(/^[0-9A-Z]{26}$/);

    const execution = await waitFor(async () => {
      const res = await api.get<{ items: Execution[] }>('/v1/executions?action=core.echo');
      const found = res.body.items.find((e) => e.eventId === accepted.body.eventId);
      return found?.status === 'succeeded' ? found : undefined;
    }, 'the echo execution to succeed');
    expect(execution.result?.message).toBe('db1 disk at 97%');
    expect(execution.rule).toBe('demo.disk_alert');
    expect(execution.traceId).toBe('trace-readme-1');

    const enforcements = await api.get<{ items: Array<{ rule: string; status: string; executionId: string }> }>(
      `/v1/enforcements?event=${accepted.body.eventId}`,
    );
    expect(enforcements.body.items).toEqual([expect.objectContaining({ rule: 'demo.disk_alert', status: 'fired', executionId: execution.id })]);

    const event = await api.get<{ id: string; payload: { body: unknown; headers: Record<string, string> } }>(`/v1/events/${accepted.body.eventId}`);
    expect(event.status).toBe(200);
    expect(event.body.payload.body).toEqual({ status: 'firing', host: 'db1', value: 97 });
    expect(event.body.payload.headers['content-type']).toBe('application/json');
  });

  it('does not fire when the criteria do not match, but still stores the event', async () => {
    const accepted = await api.post<{ eventId: string }>('/v1/webhooks/alerts', { status: 'resolved', host: 'db2', value: 99 });
    expect(accepted.status).toBe(202);
    await waitFor(async () => ((await api.get(`/v1/events/${accepted.body.eventId}`)).status === 200 ? true : undefined), 'the event to be stored');
    const enforcements = await api.get<{ items: unknown[] }>(`/v1/enforcements?event=${accepted.body.eventId}`);
    expect(enforcements.body.items).toEqual([]);
  });

  it('runs an action by hand', async () => {
    const res = await api.post<Execution>('/v1/executions', { action: 'core.echo', parameters: { message: 'by hand' } });
    expect(res.status).toBe(201);
    const done = await waitFor(async () => {
      const got = await api.get<Execution>(`/v1/executions/${res.body.id}`);
      return got.body.status === 'succeeded' ? got.body : undefined;
    }, 'the manual execution');
    expect(done.result).toEqual({ message: 'by hand' });
  });
});
