import { NonRetriableError, RetryAfterError } from '@reflex/model';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackApiServer, startSlackWebhookServer, type SlackApiServer, type SlackWebhookServer } from '../../test/servers.ts';
import { alert, refusedUrl, rejection, send, testAdapters } from '../../test/harness.ts';
import { ChatRejectedError, ChatUnavailableError, renderSlack, SLACK_LIMITS, type SlackApiTarget, type SlackWebhookTarget } from '../index.ts';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function webhookServer(): Promise<SlackWebhookServer> {
  const server = await startSlackWebhookServer();
  closers.push(server.close);
  return server;
}

async function apiServer(): Promise<SlackApiServer> {
  const server = await startSlackApiServer();
  closers.push(server.close);
  return server;
}

describe('Block Kit rendering', () => {
  it('renders header, escaped text, fields, context and a link button', () => {
    const { text, blocks } = renderSlack(alert);
    expect(blocks.map((b) => b.type)).toEqual(['header', 'section', 'section', 'context', 'actions']);
    expect(blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: '🔴 Disk almost full on db1', emoji: true } });
    // untrusted text cannot ping the channel or forge links
    expect(blocks[1]).toEqual({ type: 'section', text: { type: 'mrkdwn', text: 'db1 disk at 97% &lt;!channel&gt; &amp; rising' } });
    expect(blocks[2]).toEqual({ type: 'section', fields: [{ type: 'mrkdwn', text: '*host*\ndb1' }, { type: 'mrkdwn', text: '*value*\n97' }] });
    expect(JSON.stringify(blocks[3])).toContain('CRITICAL');
    expect(JSON.stringify(blocks[3])).toContain('thread: disk:db1');
    expect(blocks[4]).toMatchObject({ type: 'actions', elements: [{ type: 'button', url: alert.link?.url, text: { text: 'Dashboard' } }] });
    expect(text).toBe('🔴 Disk almost full on db1: db1 disk at 97% &lt;!channel&gt; &amp; rising');
  });

  it('truncates to Slack limits with a marker instead of failing', () => {
    const long = renderSlack({ title: 'T'.repeat(400), text: '&'.repeat(5000), facts: Array.from({ length: 60 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(3000) })) });
    const header = long.blocks[0] as { text: { text: string } };
    expect(header.text.text.length).toBe(SLACK_LIMITS.headerText);
    expect(header.text.text.endsWith('… [truncated]')).toBe(true);
    const section = long.blocks[1] as { text: { text: string } };
    expect(section.text.text.length).toBeLessThanOrEqual(SLACK_LIMITS.sectionText);
    expect(section.text.text).toMatch(/(&amp;)+… \[truncated\]$/); // no half entity before the marker
    const fieldSections = long.blocks.filter((b) => b.type === 'section' && 'fields' in b);
    expect(fieldSections).toHaveLength(SLACK_LIMITS.factSections);
    expect(JSON.stringify(long.blocks.at(-1))).toContain('+20 more facts');
  });
});

describe('Slack incoming webhook adapter', () => {
  it('posts Block Kit the Slack protocol server accepts', async () => {
    const server = await webhookServer();
    const target: SlackWebhookTarget = { name: 'oncall', adapter: 'slack-webhook', url: server.webhookUrl };
    const receipt = await testAdapters().adapter('slack-webhook').post(target, alert, send());
    expect(receipt).toEqual({ target: 'oncall', adapter: 'slack-webhook', mode: 'posted', editable: false, threadKey: 'disk:db1' });
    expect(server.accepted).toHaveLength(1);
    expect(server.accepted[0]?.blocks?.[0]).toMatchObject({ type: 'header' });
  });

  it('posts an update as a follow-up marked as such', async () => {
    const server = await webhookServer();
    const target: SlackWebhookTarget = { name: 'oncall', adapter: 'slack-webhook', url: server.webhookUrl };
    const receipt = await testAdapters().adapter('slack-webhook').update?.(target, undefined, { ...alert, severity: 'ok', text: 'resolved' }, send());
    expect(receipt?.mode).toBe('follow-up');
    expect(server.accepted[0]?.text?.startsWith('↻ ')).toBe(true);
  });

  it('classifies refusals, rate limits and outages, never quoting the hook URL', async () => {
    const server = await webhookServer();
    const target: SlackWebhookTarget = { name: 'oncall', adapter: 'slack-webhook', url: server.webhookUrl };
    const slack = testAdapters().adapter('slack-webhook');

    server.script({ status: 400, body: 'invalid_blocks' });
    const refused = await rejection(slack.post(target, alert, send()));
    expect(refused).toBeInstanceOf(ChatRejectedError);
    expect((refused as ChatRejectedError).reason).toBe('invalid_blocks');
    expect(refused.message).toContain('invalid_blocks');

    const gone = await rejection(slack.post({ ...target, url: `${server.webhookUrl}x` }, alert, send()));
    expect(gone).toBeInstanceOf(NonRetriableError);
    expect(gone.message).toContain('no_service');
    expect(gone.message).not.toContain('/services/');

    server.script({ status: 429, headers: { 'retry-after': '7' }, body: 'rate_limited' });
    const limited = await rejection(slack.post(target, alert, send()));
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect((limited as RetryAfterError).retryAfterMs).toBe(7000);

    server.script({ status: 500, body: 'rollup_error' });
    const down = await rejection(slack.post(target, alert, send()));
    expect(down).toBeInstanceOf(ChatUnavailableError);
    expect(down).not.toBeInstanceOf(NonRetriableError);

    const unreachable = await rejection(slack.post({ ...target, url: await refusedUrl('/services/T/B/very-secret-path') }, alert, send()));
    expect(unreachable).toBeInstanceOf(ChatUnavailableError);
    expect(unreachable.message).toContain('ECONNREFUSED');
    expect(unreachable.message).not.toContain('very-secret-path');
  });
});

describe('Slack Web API adapter', () => {
  function target(server: SlackApiServer, extra: Partial<SlackApiTarget> = {}): SlackApiTarget {
    return { name: 'ops', adapter: 'slack-api', token: server.token, channel: server.channelId, baseUrl: server.baseUrl, ...extra };
  }

  it('posts with chat.postMessage and returns ts and channel', async () => {
    const server = await apiServer();
    const receipt = await testAdapters().adapter('slack-api').post(target(server, { channel: '#alerts' }), alert, send());
    expect(receipt).toMatchObject({ adapter: 'slack-api', mode: 'posted', editable: true, channel: server.channelId });
    expect(server.messages.get(receipt.messageId ?? '')?.blocks).toHaveLength(5);
    expect(server.calls[0]?.body).toMatchObject({ channel: '#alerts', unfurl_links: false });
  });

  it('edits the message with chat.update, and replies in the thread when it cannot', async () => {
    const server = await apiServer();
    const slack = testAdapters().adapter('slack-api');
    const first = await slack.post(target(server), alert, send());
    const edited = await slack.update?.(target(server), first, { ...alert, severity: 'ok', text: 'back to 60%' }, send());
    expect(edited).toMatchObject({ mode: 'edited', messageId: first.messageId });
    expect(server.messages.get(first.messageId ?? '')).toMatchObject({ text: expect.stringContaining('back to 60%'), edits: 1 });

    server.lockMessage(first.messageId ?? '');
    const replied = await slack.update?.(target(server), first, { ...alert, text: 'again' }, send());
    expect(replied).toMatchObject({ mode: 'threaded' });
    expect(server.messages.get(replied?.messageId ?? '')?.threadTs).toBe(first.messageId);

    const anew = await slack.update?.(target(server), { ...first, messageId: '1.000001' }, alert, send());
    expect(anew?.mode).toBe('follow-up');
    expect(server.messages.get(anew?.messageId ?? '')?.threadTs).toBeUndefined();
  });

  it('reads ok:false on HTTP 200 and keeps the token out of errors', async () => {
    const server = await apiServer();
    const slack = testAdapters().adapter('slack-api');
    const bad = await rejection(slack.post(target(server, { token: 'xoxb-wrong-token-123' }), alert, send()));
    expect(bad).toBeInstanceOf(ChatRejectedError);
    expect((bad as ChatRejectedError).reason).toBe('invalid_auth');
    expect(bad.message).not.toContain('xoxb-wrong-token-123');

    const lost = await rejection(slack.post(target(server, { channel: 'C0NOPE' }), alert, send()));
    expect((lost as ChatRejectedError).reason).toBe('channel_not_found');

    server.script({ status: 429, headers: { 'retry-after': '30' }, body: { ok: false, error: 'ratelimited' } });
    const limited = await rejection(slack.post(target(server), alert, send()));
    expect((limited as RetryAfterError).retryAfterMs).toBe(30_000);

    server.script({ status: 200, body: { ok: false, error: 'service_unavailable' } });
    expect(await rejection(slack.post(target(server), alert, send()))).toBeInstanceOf(ChatUnavailableError);

    server.script({ status: 503, body: 'upstream down' });
    expect(await rejection(slack.post(target(server), alert, send()))).toBeInstanceOf(ChatUnavailableError);
  });
});
