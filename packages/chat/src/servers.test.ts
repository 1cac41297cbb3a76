/**
 * The vendor servers are the oracle the adapters are tested against, so they must refuse what
 * the vendor refuses. These post raw payloads, not through any adapter.
 */
import { describe, expect, it } from 'vitest';
import { startDiscordServer, startMattermostServer, startSlackApiServer, startSlackWebhookServer } from '../test/servers.ts';

async function post(url: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  return { status: response.status, text: await response.text() };
}

describe('vendor protocol servers', () => {
  it('Slack webhook: invalid_blocks for a block without type, an over-long header, 11 fields; no_text for nothing', async () => {
    await using slack = await startSlackWebhookServer();
    expect(await post(slack.webhookUrl, { text: 'x', blocks: [{ text: { type: 'mrkdwn', text: 'no type' } }] })).toEqual({ status: 400, text: 'invalid_blocks' });
    expect(await post(slack.webhookUrl, { blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] })).toEqual({ status: 400, text: 'invalid_blocks' });
    expect(await post(slack.webhookUrl, { blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }] })).toEqual({ status: 400, text: 'invalid_blocks' });
    const fields = Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' }));
    expect(await post(slack.webhookUrl, { blocks: [{ type: 'section', fields }] })).toEqual({ status: 400, text: 'invalid_blocks' });
    expect(await post(slack.webhookUrl, {})).toEqual({ status: 400, text: 'no_text' });
    expect(await post(`${slack.origin}/services/T/B/guess`, { text: 'x' })).toEqual({ status: 404, text: 'no_service' });
    expect(await post(slack.webhookUrl, { text: 'hello' })).toEqual({ status: 200, text: 'ok' });
    expect(slack.accepted).toEqual([{ text: 'hello' }]);
  });

  it('Slack Web API: answers 200 ok:false for auth, channel and payload problems', async () => {
    await using slack = await startSlackApiServer();
    const url = `${slack.baseUrl}/chat.postMessage`;
    const auth = { authorization: `Bearer ${slack.token}` };
    expect(JSON.parse((await post(url, { channel: slack.channelId, text: 'x' })).text)).toEqual({ ok: false, error: 'not_authed' });
    expect(JSON.parse((await post(url, { channel: slack.channelId, text: 'x' }, { authorization: 'Bearer xoxb-nope' })).text)).toEqual({ ok: false, error: 'invalid_auth' });
    expect(JSON.parse((await post(url, { channel: 'C404', text: 'x' }, auth)).text)).toEqual({ ok: false, error: 'channel_not_found' });
    expect(JSON.parse((await post(url, { channel: slack.channelId, blocks: [{ type: 'bogus' }] }, auth)).text)).toEqual({ ok: false, error: 'invalid_blocks' });
    const ok = JSON.parse((await post(url, { channel: 'alerts', text: 'x' }, auth)).text) as { ok: boolean; ts: string; channel: string };
    expect(ok).toMatchObject({ ok: true, channel: slack.channelId });
    const update = JSON.parse((await post(`${slack.baseUrl}/chat.update`, { channel: slack.channelId, ts: '1.2', text: 'y' }, auth)).text);
    expect(update).toEqual({ ok: false, error: 'message_not_found' });
  });

  it('Mattermost: refuses an empty post and a malformed attachment', async () => {
    await using mm = await startMattermostServer();
    expect((await post(mm.webhookUrl, {})).status).toBe(400);
    expect((await post(mm.webhookUrl, { attachments: [{ fields: [{ value: 'no title' }] }] })).status).toBe(400);
    expect(await post(mm.webhookUrl, { text: 'hi' })).toEqual({ status: 200, text: 'ok' });
  });

  it('Discord: refuses an empty message and embeds over the limits; 204 without wait', async () => {
    await using discord = await startDiscordServer();
    expect(JSON.parse((await post(discord.webhookUrl, {})).text)).toEqual({ message: 'Cannot send an empty message', code: 50006 });
    const big = await post(discord.webhookUrl, { embeds: [{ description: 'd'.repeat(4097) }] });
    expect(big.status).toBe(400);
    expect(JSON.parse(big.text)).toMatchObject({ code: 50035 });
    const empty = await post(discord.webhookUrl, { embeds: [{ fields: [{ name: 'n', value: '' }] }] });
    expect(JSON.parse(empty.text)).toMatchObject({ code: 50035 });
    expect((await post(discord.webhookUrl, { content: 'hi' })).status).toBe(204);
  });
});
