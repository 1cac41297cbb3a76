import { describe, expect, it } from 'vitest';
import { SECRET_MASK, type ExecutionRequest } from '@reflex/model';
import type { Deliverer, DeliveryRequest } from './delivery.ts';
import { createChatRunner } from './runner.ts';

describe('chat runner', () => {
  it('never posts a datastore secret a rule rendered into the message', async () => {
    const delivered: DeliveryRequest[] = [];
    const deliverer = {
      deliver: async (request: DeliveryRequest) => {
        delivered.push(request);
        return { status: 'delivered' as const, target: 'ops', attempts: 1, receipt: { target: 'ops', adapter: 'console' as const, mode: 'post' as const } };
      },
    } as unknown as Deliverer;
    const runner = createChatRunner({ deliverer, threads: { get: async () => undefined, put: async () => undefined } });
    const request: ExecutionRequest = {
      executionId: 'x1',
      action: 'chat.post',
      runner: 'chat',
      pack: 'chat',
      parameters: { target: 'ops', text: 'rotated the token to tok-S3cret-42', title: 'tok-S3cret-42' },
      traceId: 't',
      secrets: ['tok-S3cret-42'],
    };
    await runner.run(request, { signal: new AbortController().signal });
    expect(delivered[0]?.target).toBe('ops');
    expect(delivered[0]?.message).toEqual({ text: `rotated the token to ${SECRET_MASK}`, title: SECRET_MASK });
    const { secrets: _secrets, ...withoutSecrets } = request;
    await runner.run(withoutSecrets, { signal: new AbortController().signal });
    expect(delivered[1]?.message).toMatchObject({ text: 'rotated the token to tok-S3cret-42' });
  });
});
