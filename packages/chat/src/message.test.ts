import { ValidationError } from '@reflex/model';
import { describe, expect, it } from 'vitest';
import { parseChatMessage, summaryOf, truncate, TRUNCATION_MARKER } from './index.ts';

describe('chat message model', () => {
  it('accepts the full model and turns fact values into strings', () => {
    const input = {
      text: 'db1 disk at 97%',
      title: 'Disk',
      severity: 'warning',
      link: { url: 'https://example.com/x', label: 'Runbook' },
      facts: [{ key: 'value', value: 97 }, { key: 'ok', value: false }, { key: 'none', value: null }],
      threadKey: 'disk:db1',
    };
    expect(parseChatMessage(input)).toEqual({
      text: 'db1 disk at 97%',
      title: 'Disk',
      severity: 'warning',
      link: { url: 'https://example.com/x', label: 'Runbook' },
      facts: [{ key: 'value', value: '97' }, { key: 'ok', value: 'false' }, { key: 'none', value: '' }],
      threadKey: 'disk:db1',
    });
    expect(input.facts[0]?.value).toBe(97); // the caller's object is left alone
  });

  it('names every bad field under the given root', () => {
    try {
      parseChatMessage({ text: '', severity: 'panic', link: { url: 'javascript:alert(1)' }, facts: [{ key: 'k' }], extra: 1 }, 'parameters');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const fields = (err as ValidationError).details?.map((d) => d.field);
      expect(fields).toEqual(
        expect.arrayContaining(['parameters.text', 'parameters.severity', 'parameters.link.url', 'parameters.facts.0.value', 'parameters.extra']),
      );
    }
    expect(() => parseChatMessage('hello')).toThrow(ValidationError);
  });

  it('never fails on length: a huge text is accepted and truncated by renderers', () => {
    expect(parseChatMessage({ text: 'x'.repeat(1_000_000) }).text).toHaveLength(1_000_000);
  });

  it('truncates with a marker and never splits a surrogate pair', () => {
    expect(truncate('short', 10)).toBe('short');
    const cut = truncate('a'.repeat(20), 15);
    expect(cut).toBe(`aa${TRUNCATION_MARKER}`);
    expect(cut).toHaveLength(15);
    const emoji = truncate('😀'.repeat(20), 16); // 14 code units before the marker would end mid-pair at 3
    expect(emoji.endsWith(TRUNCATION_MARKER)).toBe(true);
    expect(emoji.length).toBeLessThanOrEqual(16);
    expect(emoji.slice(0, emoji.length - TRUNCATION_MARKER.length)).toBe('😀');
  });

  it('summarises with the severity symbol', () => {
    expect(summaryOf({ text: 'x', title: 'T', severity: 'ok' })).toBe('✅ T: x');
    expect(summaryOf({ text: 'x' })).toBe('x');
  });
});
