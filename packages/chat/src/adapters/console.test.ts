import { describe, expect, it } from 'vitest';
import { alert, send, testAdapters } from '../../test/harness.ts';
import { renderConsoleLine, type ConsoleTarget } from '../index.ts';

const now = Date.UTC(2025, 0, 2, 3, 4, 5);

describe('console adapter', () => {
  it('writes one readable line per message, updates marked', async () => {
    const { adapter, lines } = testAdapters({ now: () => now });
    const target: ConsoleTarget = { name: 'console', adapter: 'console' };
    const receipt = await adapter('console').post(target, alert, send());
    await adapter('console').update?.(target, receipt, { ...alert, severity: 'ok', text: 'fine\nnow' }, send());
    expect(lines).toEqual([
      '2025-01-02T03:04:05.000Z chat[console] 🔴 CRITICAL Disk almost full on db1 — db1 disk at 97% <!channel> & rising | host=db1 value=97 | Dashboard <https://grafana.example.com/d/disk?var-host=db1> | thread=disk:db1\n',
      '2025-01-02T03:04:05.000Z chat[console] ↻ ✅ OK Disk almost full on db1 — fine ⏎ now | host=db1 value=97 | Dashboard <https://grafana.example.com/d/disk?var-host=db1> | thread=disk:db1\n',
    ]);
    expect(receipt).toMatchObject({ adapter: 'console', mode: 'posted', editable: true });
  });

  it('strips terminal control characters', () => {
    expect(renderConsoleLine('c', { text: 'a\u001b[2Jb\u0007' }, { now })).toBe('2025-01-02T03:04:05.000Z chat[c] a[2Jb\n');
  });
});
