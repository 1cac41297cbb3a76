import { RetryAfterError } from '@reflex/model';
import { describe, expect, it } from 'vitest';
import { startTeamsServer } from '../../test/servers.ts';
import { alert, rejection, send, testAdapters } from '../../test/harness.ts';
import { ADAPTIVE_CARD_CONTENT_TYPE, ChatRejectedError, renderTeams, TEAMS_LIMITS, type TeamsTarget } from '../index.ts';

describe('Teams Workflows adapter', () => {
  it('renders a message with one Adaptive Card 1.4: title, text, facts, context, open-url action', () => {
    const payload = renderTeams(alert);
    expect(payload.type).toBe('message');
    const [attachment] = payload.attachments;
    expect(attachment?.contentType).toBe(ADAPTIVE_CARD_CONTENT_TYPE);
    const card = attachment?.content;
    expect(card).toMatchObject({ type: 'AdaptiveCard', version: '1.4', $schema: 'http://adaptivecards.io/schemas/adaptive-card.json' });
    expect(card?.body.map((e) => e.type)).toEqual(['TextBlock', 'TextBlock', 'FactSet', 'TextBlock']);
    expect(card?.body[0]).toMatchObject({ text: '🔴 Disk almost full on db1', weight: 'Bolder', color: 'Attention' });
    expect(card?.body[2]).toEqual({ type: 'FactSet', facts: [{ title: 'host', value: 'db1' }, { title: 'value', value: '97' }] });
    expect(card?.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Dashboard', url: alert.link?.url }]);
  });

  it('keeps a huge message under the 28 KB card limit', () => {
    const payload = renderTeams({ text: '💥'.repeat(20_000), facts: Array.from({ length: 80 }, (_, i) => ({ key: `k${i}`, value: 'é'.repeat(900) })) });
    expect(Buffer.byteLength(JSON.stringify(payload))).toBeLessThanOrEqual(TEAMS_LIMITS.payloadBytes);
  });

  it('posts what the Workflows server accepts (202) and classifies its errors without quoting sig', async () => {
    await using server = await startTeamsServer();
    const target: TeamsTarget = { name: 'teams', adapter: 'teams', url: server.webhookUrl };
    const teams = testAdapters().adapter('teams');
    expect(await teams.post(target, alert, send())).toMatchObject({ adapter: 'teams', mode: 'posted', editable: false });
    expect(server.accepted).toHaveLength(1);

    const sig = new URL(server.webhookUrl).searchParams.get('sig') ?? '';
    const unauth = await rejection(teams.post({ ...target, url: server.webhookUrl.replace(sig, 'forged-signature-value') }, alert, send()));
    expect(unauth).toBeInstanceOf(ChatRejectedError);
    expect(unauth.message).toContain('DirectApiAuthorizationRequired');
    expect(unauth.message).not.toContain('forged-signature-value');

    server.script({ status: 429, headers: { 'retry-after': 'Wed, 21 Oct 2099 07:28:00 GMT' }, body: { error: { code: 'TooManyRequests', message: 'slow down' } } });
    const limited = await rejection(teams.post(target, alert, send()));
    expect(limited).toBeInstanceOf(RetryAfterError);
    expect((limited as RetryAfterError).retryAfterMs).toBeGreaterThan(0);
  });

  it('is refused by the server when the attachment is not an Adaptive Card', async () => {
    await using server = await startTeamsServer();
    const response = await fetch(server.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.hero', content: {} }] }),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: { code: 'InvalidRequestContent' } });
  });
});
