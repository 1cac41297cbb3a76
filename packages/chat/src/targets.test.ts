import { ValidationError } from '@reflex/model';
import { describe, expect, it } from 'vitest';
import { parseChatConfig, redactTarget, type TargetConfig } from './index.ts';

function fieldsOf(fn: () => unknown): Array<{ field: string; message: string }> {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('CHAT_CONFIG_INVALID');
    return (err as ValidationError).details ?? [];
  }
  throw new Error('expected a ValidationError');
}

describe('chat targets config', () => {
  it('fills in names, adds the built-in console target and defaults to it', () => {
    const config = parseChatConfig({
      targets: {
        oncall: { adapter: 'slack-webhook', url: 'https://hooks.slack.com/services/T/B/x' },
        ops: { adapter: 'slack-api', token: 'xoxb-1', channel: 'C1', timeoutMs: 5000 },
      },
    });
    expect(config.defaultTarget).toBe('console');
    expect(config.targets['oncall']).toEqual({ name: 'oncall', adapter: 'slack-webhook', url: 'https://hooks.slack.com/services/T/B/x' });
    expect(config.targets['console']).toEqual({ name: 'console', adapter: 'console' });
    expect(parseChatConfig(undefined).targets).toEqual({ console: { name: 'console', adapter: 'console' } });
  });

  it('names the field of a missing credential, for each adapter', () => {
    const details = fieldsOf(() =>
      parseChatConfig({
        targets: {
          oncall: { adapter: 'slack-webhook' },
          ops: { adapter: 'slack-api', channel: 'C1' },
          teams: { adapter: 'teams' },
        },
      }),
    );
    expect(details).toEqual(
      expect.arrayContaining([
        { field: 'targets.oncall.url', message: 'is required' },
        { field: 'targets.ops.token', message: 'is required' },
        { field: 'targets.teams.url', message: 'is required' },
      ]),
    );
    expect(details.some((d) => d.message.includes('"then"'))).toBe(false);
  });

  it('explains an unknown adapter, a bad URL, a field the adapter does not use, a reserved header', () => {
    const details = fieldsOf(() => parseChatConfig({ targets: { a: { adapter: 'irc', url: 'x' } } }));
    expect(details).toEqual(expect.arrayContaining([expect.objectContaining({ field: 'targets.a.adapter', message: expect.stringContaining('"slack-webhook"') })]));
    expect(details.map((d) => d.field)).toContain('targets.a.url');

    expect(fieldsOf(() => parseChatConfig({ targets: { a: { adapter: 'slack-webhook', url: 'https://h', token: 'xoxb-1' } } }))).toEqual([
      { field: 'targets.a.token', message: 'is not used by the slack-webhook adapter' },
    ]);
    expect(fieldsOf(() => parseChatConfig({ targets: { a: { adapter: 'webhook', url: 'https://h', headers: { 'Idempotency-Key': 'x' } } } }))).toEqual([
      { field: 'targets.a.headers.Idempotency-Key', message: 'is set by Reflex and cannot be overridden' },
    ]);
    expect(fieldsOf(() => parseChatConfig({ targets: {}, defaultTarget: 'nope' }))).toEqual([
      { field: 'defaultTarget', message: 'names no target (known: console)' },
    ]);
    expect(fieldsOf(() => parseChatConfig({ targets: { a: { adapter: 'discord' } } }, 'config'))).toEqual([{ field: 'config.targets.a.url', message: 'is required' }]);
    expect(fieldsOf(() => parseChatConfig({ targets: { '-bad': { adapter: 'console' } } })).map((d) => d.field)).toEqual(['targets.-bad']);
  });

  it('masks credentials for output', () => {
    const target: TargetConfig = { name: 'w', adapter: 'webhook', url: 'https://example.com/hook/abc', secret: 's'.repeat(20), headers: { authorization: 'Bearer x' } };
    expect(redactTarget(target)).toEqual({ name: 'w', adapter: 'webhook', url: 'https://example.com/***', secret: '***', headers: '***' });
  });
});
