import { describe, expect, it } from 'vitest';
import { fakeClock, startSlackApiServer, startSlackWebhookServer, startWebhookReceiver } from '../test/servers.ts';
import { alert } from '../test/harness.ts';
import {
  createChatAdapters,
  Deliverer,
  parseChatConfig,
  type ChatAdapter,
  type DelivererOptions,
  type DeliveryEvent,
  type DeliveryOutcome,
} from './index.ts';

function setup(targets: Record<string, unknown>, options: Partial<DelivererOptions> = {}, extraAdapters: ChatAdapter[] = []) {
  const clock = fakeClock();
  const events: DeliveryEvent[] = [];
  const lines: string[] = [];
  const deliverer = new Deliverer({
    config: parseChatConfig({ targets }),
    adapters: createChatAdapters({ consoleSink: { write: (l: string) => lines.push(l) }, now: clock.now, overrides: extraAdapters }),
    now: clock.now,
    sleep: clock.sleep,
    random: () => 1, // the top of every jitter range, so waits are exact
    onEvent: (e) => events.push(e),
    ...options,
  });
  return { deliverer, clock, events, lines };
}

function expectStatus<S extends DeliveryOutcome['status']>(outcome: DeliveryOutcome, status: S): Extract<DeliveryOutcome, { status: S }> {
  expect(outcome.status, JSON.stringify(outcome)).toBe(status);
  return outcome as Extract<DeliveryOutcome, { status: S }>;
}

describe('Deliverer: retries', () => {
  it('retries 5xx with exponential backoff (full jitter) and delivers', async () => {
    await using slack = await startSlackWebhookServer();
    const { deliverer, clock } = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl } });
    slack.script({ status: 503, body: 'unavailable' }, { status: 500, body: 'rollup_error' }, { reset: true });
    const outcome = expectStatus(await deliverer.deliver({ target: 'oncall', message: alert }), 'delivered');
    expect(outcome.attempts).toBe(4);
    expect(outcome.receipt).toMatchObject({ target: 'oncall', mode: 'posted' });
    expect(clock.sleeps).toEqual([500, 1000, 2000]);
    expect(slack.accepted).toHaveLength(1);
  });

  it('draws each wait uniformly below the exponential ceiling', async () => {
    await using slack = await startSlackWebhookServer();
    const { deliverer, clock } = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl } }, { random: () => 0.25, retry: { baseDelayMs: 1000, maxDelayMs: 3000 } });
    slack.script({ status: 502 }, { status: 502 }, { status: 502 }, { status: 502 });
    expectStatus(await deliverer.deliver({ target: 'oncall', message: alert }), 'delivered');
    expect(clock.sleeps).toEqual([250, 500, 750, 750]);
  });

  it('waits exactly as long as Retry-After says', async () => {
    await using slack = await startSlackApiServer();
    const { deliverer, clock } = setup({ ops: { adapter: 'slack-api', token: slack.token, channel: slack.channelId, baseUrl: slack.baseUrl } });
    slack.script({ status: 429, headers: { 'retry-after': '3' }, body: { ok: false, error: 'ratelimited' } });
    const outcome = expectStatus(await deliverer.deliver({ target: 'ops', message: alert }), 'delivered');
    expect(outcome.attempts).toBe(2);
    expect(clock.sleeps).toEqual([3000]);
  });

  it('gives a Retry-After beyond the budget back to the caller instead of waiting', async () => {
    await using slack = await startSlackWebhookServer();
    const { deliverer, clock } = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl } }, { retry: { budgetMs: 60_000 } });
    slack.script({ status: 429, headers: { 'retry-after': '120' }, body: 'rate_limited' });
    const outcome = expectStatus(await deliverer.deliver({ target: 'oncall', message: alert }), 'exhausted');
    expect(outcome).toMatchObject({ reason: 'time-budget', retryAfterMs: 120_000, attempts: 1, error: { code: 'RETRY_AFTER' } });
    expect(clock.sleeps).toEqual([]);
  });

  it('does not retry a refusal', async () => {
    await using slack = await startSlackWebhookServer();
    const { deliverer, events } = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl } });
    slack.script({ status: 400, body: 'invalid_blocks' });
    const outcome = expectStatus(await deliverer.deliver({ target: 'oncall', message: alert }), 'failed-permanently');
    expect(outcome.attempts).toBe(1);
    expect(outcome.error).toMatchObject({ code: 'CHAT_REJECTED', message: expect.stringContaining('invalid_blocks') });
    expect(slack.requests).toHaveLength(1);
    expect(events).toContainEqual(expect.objectContaining({ type: 'attempt-failed', retriable: false }));
  });

  it('stops after maxAttempts and after the time budget', async () => {
    await using slack = await startSlackWebhookServer();
    slack.always({ status: 503, body: 'down' });
    const a = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl } }, { retry: { maxAttempts: 3 }, circuit: { failureThreshold: 100 } });
    const byAttempts = expectStatus(await a.deliverer.deliver({ target: 'oncall', message: alert }), 'exhausted');
    expect(byAttempts).toMatchObject({ reason: 'max-attempts', attempts: 3, error: { code: 'CHAT_VENDOR_UNAVAILABLE' } });
    expect(slack.requests).toHaveLength(3);

    const b = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl } }, { retry: { budgetMs: 2000, maxAttempts: 100 }, circuit: { failureThreshold: 100 } });
    const byBudget = expectStatus(await b.deliverer.deliver({ target: 'oncall', message: alert }), 'exhausted');
    expect(byBudget).toMatchObject({ reason: 'time-budget', attempts: 3 });
    expect(b.clock.sleeps).toEqual([500, 1000]); // the next (2000) would end past the budget
  });
});

describe('Deliverer: circuit breaker per target', () => {
  it('opens for a dead target, fails it fast, leaves the others alone, and closes after a good probe', async () => {
    await using dead = await startSlackWebhookServer();
    await using healthy = await startSlackWebhookServer();
    dead.always({ status: 503, body: 'down' });
    const { deliverer, clock, events } = setup(
      { dead: { adapter: 'slack-webhook', url: dead.webhookUrl }, healthy: { adapter: 'slack-webhook', url: healthy.webhookUrl } },
      { retry: { maxAttempts: 2 }, circuit: { failureThreshold: 4, cooldownMs: 30_000 } },
    );
    expectStatus(await deliverer.deliver({ target: 'dead', message: alert }), 'exhausted');
    const second = expectStatus(await deliverer.deliver({ target: 'dead', message: alert }), 'exhausted');
    expect(second.reason).toBe('max-attempts');
    expect(dead.requests).toHaveLength(4);

    const fast = expectStatus(await deliverer.deliver({ target: 'dead', message: alert }), 'exhausted');
    expect(fast).toMatchObject({ reason: 'circuit-open', attempts: 0, retryAfterMs: 30_000, error: { code: 'CHAT_CIRCUIT_OPEN' } });
    expect(dead.requests).toHaveLength(4); // nothing went out

    expect(expectStatus(await deliverer.deliver({ target: 'healthy', message: alert }), 'delivered').attempts).toBe(1);
    expect(deliverer.circuits()).toMatchObject({ dead: { state: 'open' }, healthy: { state: 'closed' } });

    clock.advance(30_000);
    dead.always(undefined); // the vendor is back
    expect(expectStatus(await deliverer.deliver({ target: 'dead', message: alert }), 'delivered').attempts).toBe(1);
    expect(deliverer.circuits()['dead']?.state).toBe('closed');
    const moves = events.filter((e) => e.type === 'circuit-changed' && e.target === 'dead').map((e) => (e.type === 'circuit-changed' ? `${e.from}>${e.to}` : ''));
    expect(moves).toEqual(['closed>open', 'open>half-open', 'half-open>closed']);
  });

  it('a hanging target does not hold up deliveries to another', async () => {
    await using dead = await startSlackWebhookServer();
    await using healthy = await startSlackWebhookServer();
    dead.always({ hang: true });
    const { deliverer } = setup(
      { dead: { adapter: 'slack-webhook', url: dead.webhookUrl }, healthy: { adapter: 'slack-webhook', url: healthy.webhookUrl } },
      { attemptTimeoutMs: 300_000 },
    );
    const stop = new AbortController();
    let settled = false;
    const stuck = deliverer.deliver({ target: 'dead', message: alert, signal: stop.signal }).finally(() => {
      settled = true;
    });
    expect(expectStatus(await deliverer.deliver({ target: 'healthy', message: alert }), 'delivered').attempts).toBe(1);
    expect(settled).toBe(false);
    stop.abort(new Error('shutting down'));
    await expect(stuck).rejects.toThrow('shutting down'); // the caller's abort is not an outcome
  });
});

describe('Deliverer: timeouts, masking, routing', () => {
  it('aborts an attempt that takes longer than the timeout and retries it', async () => {
    await using slack = await startSlackWebhookServer();
    slack.script({ hang: true }, { delayMs: 5_000 });
    const { deliverer } = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl, timeoutMs: 150 } }, { attemptTimeoutMs: 60_000 });
    const outcome = expectStatus(await deliverer.deliver({ target: 'oncall', message: alert }), 'delivered');
    expect(outcome.attempts).toBe(3);
    expect(slack.accepted).toHaveLength(1);
  });

  it('reports a timeout as a retriable failure', async () => {
    await using slack = await startSlackWebhookServer();
    slack.always({ hang: true });
    const { deliverer } = setup({ oncall: { adapter: 'slack-webhook', url: slack.webhookUrl } }, { attemptTimeoutMs: 100, retry: { maxAttempts: 2 } });
    const outcome = expectStatus(await deliverer.deliver({ target: 'oncall', message: alert }), 'exhausted');
    expect(outcome.error).toMatchObject({ code: 'CHAT_VENDOR_UNAVAILABLE', message: expect.stringContaining('timed out') });
    expect(outcome.error.message).not.toContain('/services/');
  });

  it('masks every secret of the target, whatever an adapter puts in its error', async () => {
    const url = 'https://chat.example.com/hooks/super-secret-hook-id?token=another-secret-value';
    const leaky: ChatAdapter = {
      kind: 'mattermost',
      post: async (target) => {
        throw new Error(`could not post to ${'url' in target ? target.url : ''} (token=another-secret-value, path /hooks/super-secret-hook-id)`);
      },
    };
    const { deliverer } = setup({ mm: { adapter: 'mattermost', url } }, { retry: { maxAttempts: 1 } }, [leaky]);
    const outcome = expectStatus(await deliverer.deliver({ target: 'mm', message: alert }), 'exhausted');
    expect(outcome.error.message).not.toMatch(/super-secret-hook-id|another-secret-value/);
    expect(outcome.error.message).toContain('***');

    await using slack = await startSlackApiServer();
    const api = setup({ ops: { adapter: 'slack-api', token: 'xoxb-999-888-abcdefabcdef', channel: slack.channelId, baseUrl: slack.baseUrl } });
    const refused = expectStatus(await api.deliverer.deliver({ target: 'ops', message: alert }), 'failed-permanently');
    expect(refused.error.message).toContain('invalid_auth');
    expect(refused.error.message).not.toContain('abcdefabcdef');
  });

  it('refuses an unknown target and an invalid message with a clear reason, without trying', async () => {
    const { deliverer } = setup({});
    const unknown = expectStatus(await deliverer.deliver({ target: 'pager', message: alert }), 'failed-permanently');
    expect(unknown.error).toMatchObject({ code: 'CHAT_UNKNOWN_TARGET', message: "unknown chat target 'pager' (configured: console)" });
    const invalid = expectStatus(await deliverer.deliver({ message: { text: 42 } }), 'failed-permanently');
    expect(invalid).toMatchObject({ attempts: 0, error: { code: 'VALIDATION_FAILED', details: [{ field: 'message.text' }] } });
  });

  it('routes updates to the adapter and passes the idempotency key on', async () => {
    await using hook = await startWebhookReceiver();
    const { deliverer, lines } = setup({ audit: { adapter: 'webhook', url: hook.webhookUrl } });
    const first = expectStatus(await deliverer.deliver({ target: 'audit', message: alert, idempotencyKey: 'exec-1' }), 'delivered');
    const update = expectStatus(await deliverer.deliver({ target: 'audit', message: { ...alert, severity: 'ok' }, operation: 'update', receipt: first.receipt, idempotencyKey: 'exec-2' }), 'delivered');
    expect(update.receipt).toMatchObject({ mode: 'edited', messageId: first.receipt.messageId });
    expect(hook.requests.map((r) => r.headers['idempotency-key'])).toEqual(['exec-1', 'exec-2']);

    const viaDefault = expectStatus(await deliverer.deliver({ message: { text: 'hello' } }), 'delivered');
    expect(viaDefault.receipt.adapter).toBe('console');
    expect(lines).toHaveLength(1);
  });

  it('falls back to a follow-up post for an adapter without update', async () => {
    const posted: Array<boolean | undefined> = [];
    const minimal: ChatAdapter = {
      kind: 'teams',
      post: async (target, _message, options) => {
        posted.push(options.followUp);
        return { target: target.name, adapter: 'teams', mode: options.followUp === true ? 'follow-up' : 'posted', editable: false };
      },
    };
    const { deliverer } = setup({ t: { adapter: 'teams', url: 'https://example.com/wf' } }, {}, [minimal]);
    const outcome = expectStatus(await deliverer.deliver({ target: 't', message: alert, operation: 'update' }), 'delivered');
    expect(outcome.receipt.mode).toBe('follow-up');
    expect(posted).toEqual([true]);
  });
});
