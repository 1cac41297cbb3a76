import { describe, expect, it } from 'vitest';
import { maskUrl, redactor, redactorFor, secretsOf } from './index.ts';

describe('secret masking', () => {
  it('masks a URL down to its host', () => {
    expect(maskUrl('https://hooks.slack.com/services/T0/B0/abcdef?x=1')).toBe('https://hooks.slack.com/***');
    expect(maskUrl('not a url')).toBe('***');
  });

  it('removes configured secrets, their URL parts, and known credential shapes', () => {
    const target = { name: 'd', adapter: 'discord' as const, url: 'https://discord.com/api/webhooks/123/tok_ABCDEFGHIJ?thread_id=42' };
    expect(secretsOf(target)).toContain('tok_ABCDEFGHIJ');
    const redact = redactorFor(target);
    expect(redact(`POST ${target.url} failed; token tok_ABCDEFGHIJ`)).toBe('POST *** failed; token ***');
    const generic = redactor([]);
    expect(generic('auth xoxb-123-456-abc and https://hooks.slack.com/services/T/B/zzz')).toBe('auth xox?-*** and https://hooks.slack.com/services/***');
    expect(generic('https://x.logic.azure.com/workflows/1/invoke?api-version=1&sig=s3cr3t&z=1')).toBe('https://x.logic.azure.com/workflows/1/invoke?api-version=1&sig=***&z=1');
    expect(generic('Authorization: Bearer abc.def')).toBe('Authorization: Bearer ***');
  });
});
