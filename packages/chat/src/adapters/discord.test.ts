import { RetryAfterError } from '@reflex/model';
import { describe, expect, it } from 'vitest';
import { startDiscordServer } from '../../test/servers.ts';
import { alert, rejection, send, testAdapters } from '../../test/harness.ts';
import { ChatRejectedError, DISCORD_LIMITS, renderDiscord, type DiscordTarget } from '../index.ts';

const now = Date.UTC(2025, 4, 1, 12, 0, 0);

describe('Discord adapter', () => {
  it('renders one embed with colour, link, inline fields, footer, timestamp, and no mentions', () => {
    const payload = renderDiscord(alert, { now }, { username: 'Reflex' });
    expect(payload.allowed_mentions).toEqual({ parse: [] });
    expect(payload.username).toBe('Reflex');
    expect(payload.embeds[0]).toEqual({
      title: '🔴 Disk almost full on db1',
      url: alert.link?.url,
      description: alert.text,
      color: 0xb00020,
      fields: [
        { name: 'host', value: 'db1', inline: true },
        { name: 'value', value: '97', inline: true },
      ],
      footer: { text: 'CRITICAL · thread: disk:db1' },
      timestamp: '2025-05-01T12:00:00.000Z',
    });
  });

  it('keeps within the 6000-character embed budget', () => {
    const payload = renderDiscord({ title: 't'.repeat(300), text: 'd'.repeat(9000), facts: Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(2000) })) }, { now });
    const [embed] = payload.embeds;
    const size = (embed?.title?.length ?? 0) + (embed?.description.length ?? 0) + (embed?.footer?.text.length ?? 0) + (embed?.fields ?? []).reduce((n, f) => n + f.name.length + f.value.length, 0);
    expect(size).toBeLessThanOrEqual(DISCORD_LIMITS.total);
    expect(embed?.title?.length).toBe(DISCORD_LIMITS.title);
  });

  it('posts with wait=true, then edits the same message with PATCH', async () => {
    await using server = await startDiscordServer();
    const target: DiscordTarget = { name: 'discord', adapter: 'discord', url: server.webhookUrl };
    const discord = testAdapters({ now: () => now }).adapter('discord');
    const receipt = await discord.post(target, alert, send());
    expect(receipt).toMatchObject({ adapter: 'discord', mode: 'posted', editable: true, channel: server.channelId });
    expect(server.requests[0]?.url.searchParams.get('wait')).toBe('true');

    const edited = await discord.update?.(target, receipt, { ...alert, severity: 'ok', text: 'recovered' }, send());
    expect(edited).toMatchObject({ mode: 'edited', messageId: receipt.messageId });
    const stored = server.messages.get(receipt.messageId ?? '');
    expect(stored?.edits).toBe(1);
    expect(stored?.embeds[0]).toMatchObject({ description: 'recovered' });
    expect(server.requests[1]?.method).toBe('PATCH');

    // the message was deleted: post anew
    const anew = await discord.update?.(target, { ...receipt, messageId: '1' }, alert, send());
    expect(anew?.mode).toBe('follow-up');
    expect(server.messages.size).toBe(2);
  });

  it('honours retry_after from the 429 body and masks the webhook token', async () => {
    await using server = await startDiscordServer();
    const target: DiscordTarget = { name: 'discord', adapter: 'discord', url: server.webhookUrl };
    const discord = testAdapters().adapter('discord');
    server.rateLimit(1.25);
    const limited = await rejection(discord.post(target, alert, send()));
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect((limited as RetryAfterError).retryAfterMs).toBe(1250);

    const token = server.webhookUrl.split('/').at(-1) ?? '';
    const bad = await rejection(discord.post({ ...target, url: server.webhookUrl.replace(token, 'not-the-token-at-all') }, alert, send()));
    expect(bad).toBeInstanceOf(ChatRejectedError);
    expect((bad as ChatRejectedError).reason).toBe('50027');
    expect(bad.message).toContain('Invalid Webhook Token');
    expect(bad.message).not.toContain('not-the-token-at-all');
  });
});
