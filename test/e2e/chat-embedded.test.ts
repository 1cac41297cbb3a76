/**
 * Chat end to end, one embedded process: rules post to a local server speaking Slack's Web API,
 * an update for the same thread key edits the first message in place, and a target that keeps
 * failing turns the message into a dead letter that can be re-sent.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import { loadConfig } from '@reflex/runtime';
import { startSlackApiServer, startSlackWebhookServer, type SlackApiServer, type SlackWebhookServer } from '../../packages/chat/test/servers.ts';
import { adminKeyOf, apiClient } from '../support/api-client.ts';
import { waitFor } from '../support/wait.ts';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));

interface Execution {
  id: string;
  action: string;
  status: string;
  error?: { code: string };
  rerunOf?: string;
}

describe('chat, embedded', () => {
  let dir: string;
  let slack: SlackApiServer;
  let dead: SlackWebhookServer;
  let reflex: Launched;
  let api: ReturnType<typeof apiClient>;
  const consoleLines: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-chat-'));
    slack = await startSlackApiServer();
    dead = await startSlackWebhookServer();
    dead.always({ status: 503, body: 'service unavailable' });
    mkdirSync(join(dir, 'config'));
    writeFileSync(
      join(dir, 'config', 'chat.yaml'),
      [
        'default_target: ops',
        'targets:',
        `  ops: { adapter: slack-api, token: "${slack.token}", channel: ${slack.channelId}, baseUrl: "${slack.baseUrl}" }`,
        `  broken: { adapter: slack-webhook, url: "${dead.webhookUrl}" }`,
        'delivery: { max_attempts: 2, base_delay_ms: 1, max_delay_ms: 5, budget_ms: 5000 }',
      ].join('\n'),
    );
    const config = loadConfig({}, { port: 0, dataDir: join(dir, 'data'), configDir: join(dir, 'config'), packsPaths: [PACKS], logLevel: 'silent' });
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'silent' }), { consoleSink: { write: (line: string) => consoleLines.push(line) } });
    api = apiClient(reflex.url ?? '', adminKeyOf(join(dir, 'data')));
  });

  afterAll(async () => {
    await reflex?.stop();
    await slack?.close();
    await dead?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const rule = (name: string, status: string, action: string) => ({
    pack: 'demo',
    name,
    trigger: { type: 'core.webhook', parameters: { url: 'disk' } },
    criteria: { '==': [{ var: 'payload.body.status' }, status] },
    action: {
      ref: action,
      parameters: {
        title: `Disk ${status} on {{ payload.body.host }}`,
        text: '{{ payload.body.host }} disk at {{ payload.body.value }}%',
        severity: status === 'firing' ? 'critical' : 'ok',
        facts: [{ key: 'host', value: '{{ payload.body.host }}' }],
        thread_key: 'disk:{{ payload.body.host }}',
      },
    },
  });

  const executionsOf = async (action: string): Promise<Execution[]> => (await api.get<{ items: Execution[] }>(`/v1/executions?action=${action}`)).body.items;

  it('posts through the rules, then edits the same message when it resolves', async () => {
    expect((await api.post('/v1/rules', rule('disk_firing', 'firing', 'chat.post'))).status).toBe(201);
    expect((await api.post('/v1/rules', rule('disk_resolved', 'resolved', 'chat.update'))).status).toBe(201);

    expect((await api.post('/v1/webhooks/disk', { status: 'firing', host: 'db1', value: 97 })).status).toBe(202);
    await waitFor(async () => (slack.messages.size === 1 ? true : undefined), 'the Slack message');
    const [first] = [...slack.messages.values()];
    expect(first?.channel).toBe(slack.channelId);
    expect(first?.text).toContain('db1 disk at 97%');

    expect((await api.post('/v1/webhooks/disk', { status: 'resolved', host: 'db1', value: 40 })).status).toBe(202);
    await waitFor(async () => (first !== undefined && slack.messages.get(first.ts)?.edits === 1 ? true : undefined), 'the edit');
    expect(slack.messages.size).toBe(1);
    expect(slack.messages.get(first?.ts ?? '')?.text).toContain('db1 disk at 40%');
    expect(slack.calls.map((c) => c.method)).toEqual(['chat.postMessage', 'chat.update']);
    const posts = await executionsOf('chat.post');
    expect(posts.map((e) => e.status)).toEqual(['succeeded']);
  });

  it('sends to the console when no target is named and none is configured for it', async () => {
    const res = await api.post<Execution>('/v1/executions', { action: 'chat.post', parameters: { target: 'console', text: 'hello from reflex' } });
    expect(res.status).toBe(201);
    await waitFor(async () => (consoleLines.some((l) => l.includes('hello from reflex')) ? true : undefined), 'the console line');
  });

  it('turns an undeliverable message into a dead letter that can be re-sent', async () => {
    const res = await api.post<Execution>('/v1/executions', { action: 'chat.post', parameters: { target: 'broken', text: 'nobody hears this' } });
    expect(res.status).toBe(201);
    const letters = await waitFor(async () => {
      const list = (await api.get<{ items: Execution[] }>('/v1/chat/dead-letters')).body.items;
      return list.some((e) => e.id === res.body.id) ? list : undefined;
    }, 'the dead letter');
    expect(letters.find((e) => e.id === res.body.id)?.error?.code).toBe('CHAT_EXHAUSTED');
    expect(dead.requests.length).toBe(2);

    dead.always(undefined); // the vendor is back
    const resent = await api.post<Execution>(`/v1/chat/dead-letters/${res.body.id}/resend`);
    expect(resent.status).toBe(201);
    expect(resent.body.rerunOf).toBe(res.body.id);
    await waitFor(async () => (dead.accepted.length === 1 ? true : undefined), 'the re-sent message');
    expect(dead.accepted[0]?.text).toContain('nobody hears this');
    expect((await api.post(`/v1/chat/dead-letters/${resent.body.id}/resend`)).status).toBe(409);
  });
});
