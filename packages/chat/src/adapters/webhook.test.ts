import { describe, expect, it } from 'vitest';
import { startWebhookReceiver } from '../../test/servers.ts';
import { alert, rejection, send, testAdapters } from '../../test/harness.ts';
import { ChatRejectedError, signWebhookBody, verifyWebhookSignature, type WebhookTarget } from '../index.ts';

const secret = 'a-shared-secret-of-some-length';

describe('generic webhook adapter', () => {
  it('posts the model as JSON, signed, with the idempotency key, and the receiver dedupes a repeat', async () => {
    await using server = await startWebhookReceiver({ secret });
    const target: WebhookTarget = { name: 'audit', adapter: 'webhook', url: server.webhookUrl, secret, headers: { 'x-team': 'sre' } };
    const webhook = testAdapters().adapter('webhook');
    const receipt = await webhook.post(target, alert, send({ idempotencyKey: 'exec-1' }));
    expect(receipt).toMatchObject({ adapter: 'webhook', mode: 'posted', messageId: 'msg-1', editable: true });
    const request = server.requests[0];
    expect(request?.headers['idempotency-key']).toBe('exec-1');
    expect(request?.headers['x-team']).toBe('sre');
    expect(request?.json).toMatchObject({ type: 'reflex.chat.message', version: 1, action: 'post', target: 'audit', message: alert });
    expect(
      verifyWebhookSignature({ secret, body: request?.body ?? '', timestamp: request?.headers['x-reflex-timestamp'] as string, signature: request?.headers['x-reflex-signature'] as string }),
    ).toBe(true);

    const again = await webhook.post(target, alert, send({ idempotencyKey: 'exec-1' }));
    expect(again.messageId).toBe('msg-1');
    expect(server.accepted).toHaveLength(1);
    expect(server.duplicates).toBe(1);

    const updated = await webhook.update?.(target, receipt, { ...alert, severity: 'ok' }, send({ idempotencyKey: 'exec-2' }));
    expect(updated).toMatchObject({ mode: 'edited', messageId: 'msg-1' });
    expect(server.accepted[1]).toMatchObject({ action: 'update', replaces: 'msg-1' });
  });

  it('is refused by a receiver with another secret, without quoting either', async () => {
    await using server = await startWebhookReceiver({ secret });
    const target: WebhookTarget = { name: 'audit', adapter: 'webhook', url: server.webhookUrl, secret: 'the-wrong-secret-for-this' };
    const err = await rejection(testAdapters().adapter('webhook').post(target, alert, send()));
    expect(err).toBeInstanceOf(ChatRejectedError);
    expect(err.message).toContain('invalid_signature');
    expect(err.message).not.toContain('the-wrong-secret');
  });

  it('verifies signatures in constant time and refuses stale ones', () => {
    const body = '{"a":1}';
    const ts = 1_700_000_000;
    const signature = signWebhookBody(secret, ts, body);
    expect(verifyWebhookSignature({ secret, body, timestamp: String(ts), signature, now: ts * 1000 })).toBe(true);
    expect(verifyWebhookSignature({ secret, body: '{"a":2}', timestamp: String(ts), signature, now: ts * 1000 })).toBe(false);
    expect(verifyWebhookSignature({ secret, body, timestamp: String(ts), signature, now: (ts + 301) * 1000 })).toBe(false);
  });
});
