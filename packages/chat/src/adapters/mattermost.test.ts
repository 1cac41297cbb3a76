import { describe, expect, it } from 'vitest';
import { startMattermostServer } from '../../test/servers.ts';
import { alert, rejection, send, testAdapters } from '../../test/harness.ts';
import { ChatRejectedError, ChatUnavailableError, renderMattermost, type MattermostTarget } from '../index.ts';

describe('Mattermost adapter', () => {
  it('renders an attachment with colour, title link, fields and footer, defusing @channel', () => {
    const payload = renderMattermost({ ...alert, text: 'wake @channel and @here' }, {}, { username: 'reflex', channel: 'town-square' });
    expect(payload).toMatchObject({ username: 'reflex', channel: 'town-square' });
    const [attachment] = payload.attachments;
    expect(attachment).toMatchObject({
      color: '#B00020',
      title: '🔴 Disk almost full on db1',
      title_link: alert.link?.url,
      fields: [
        { title: 'host', value: 'db1', short: true },
        { title: 'value', value: '97', short: true },
      ],
      footer: 'CRITICAL · thread: disk:db1',
    });
    expect(attachment?.text).toBe('wake @\u200bchannel and @\u200bhere');
    expect(attachment?.fallback).toContain('Disk almost full');
  });

  it('posts what the Mattermost protocol server accepts, and classifies its errors', async () => {
    await using server = await startMattermostServer();
    const target: MattermostTarget = { name: 'mm', adapter: 'mattermost', url: server.webhookUrl, username: 'reflex' };
    const mm = testAdapters().adapter('mattermost');
    const receipt = await mm.post(target, { ...alert, text: 'x'.repeat(20_000) }, send());
    expect(receipt).toMatchObject({ adapter: 'mattermost', mode: 'posted', editable: false });
    expect(server.accepted).toHaveLength(1);

    const followUp = await mm.update?.(target, receipt, { ...alert, severity: 'ok' }, send());
    expect(followUp?.mode).toBe('follow-up');
    expect(JSON.stringify(server.accepted[1])).toContain('↻ update');

    const wrong = await rejection(mm.post({ ...target, url: `${server.origin}/hooks/notahookatall00000000000000` }, alert, send()));
    expect(wrong).toBeInstanceOf(ChatRejectedError);
    expect(wrong.message).toContain('Invalid webhook.');
    expect(wrong.message).not.toContain('notahookatall');

    server.script({ status: 502, body: 'Bad Gateway' });
    expect(await rejection(mm.post(target, alert, send()))).toBeInstanceOf(ChatUnavailableError);
  });
});
