/**
 * Rate limits per API key and per webhook url (429 with Retry-After), and the request timeout of a
 * client that never finishes sending.
 */
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Rule } from '@reflex/model';
import { bearer, makeKey, startTestApi, type TestApi } from './testing.ts';

function ruleOn(url: string): Rule {
  const now = new Date().toISOString();
  return { ref: `hooks.${url}`, pack: 'hooks', name: url, enabled: true, trigger: { type: 'core.webhook', parameters: { url } }, action: { ref: 'core.noop' }, source: 'api', createdAt: now, updatedAt: now };
}

describe('limits', () => {
  let t: TestApi | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('limits each API key on its own: 429 RATE_LIMITED with Retry-After past the limit', async () => {
    t = await startTestApi({ auth: true, limits: { rateLimitPerMinute: 5 } });
    const other = await makeKey(t.store, 'viewer');
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) statuses.push((await t.app.inject({ url: '/v1/rules', headers: bearer(t.adminKey) })).statusCode);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    const limited = await t.app.inject({ url: '/v1/rules', headers: bearer(t.adminKey) });
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(60);
    // Another key has its own budget; so does a stranger (by address), who still gets 401 first.
    expect((await t.app.inject({ url: '/v1/rules', headers: bearer(other) })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/v1/rules' })).statusCode).toBe(401);
  });

  it('limits each webhook url, whoever sends', async () => {
    t = await startTestApi({ auth: true, limits: { webhookRateLimitPerMinute: 3 } });
    await t.store.rules.insert(ruleOn('busy'));
    await t.store.rules.insert(ruleOn('calm'));
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await t.app.inject({ method: 'POST', url: '/v1/webhooks/busy', payload: { i } })).statusCode);
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    const limited = await t.app.inject({ method: 'POST', url: '/v1/webhooks/busy', payload: {} });
    expect(limited.headers['retry-after']).toBeDefined();
    expect(limited.json().error.code).toBe('RATE_LIMITED');
    expect((await t.app.inject({ method: 'POST', url: '/v1/webhooks/calm', payload: {} })).statusCode).toBe(202);
  });

  it('closes a request whose client never finishes sending it', async () => {
    t = await startTestApi({ auth: true, limits: { requestTimeoutMs: 300 } });
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = new URL(address);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1', () => {
        socket.write(`POST /v1/webhooks/slow HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"a":`);
      });
      let data = '';
      socket.on('data', (d) => (data += d.toString()));
      socket.on('close', () => resolve(data));
      socket.on('error', reject);
      setTimeout(() => reject(new Error('the server kept waiting')), 5000).unref();
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
  });
});
