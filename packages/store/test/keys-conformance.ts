/** The Store contract for the datastore (`keys`): JSON values by scope and name, expiry, prefixes. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '@reflex/model';
import type { Store } from '../src/index.ts';

export function runKeysConformance(storeOf: () => Store): void {
  describe('keys (datastore)', () => {
    it('puts, gets, replaces and deletes values of any JSON type', async () => {
      const store = storeOf();
      for (const value of ['text', 42, true, null, [1, 'two'], { nested: { ok: ['é', '🚀'] } }]) {
        const put = await store.keys.put({ scope: 'system', name: 'v', value });
        expect(put.updatedAt).toMatch(/^\d{4}-/);
        expect((await store.keys.get('system', 'v'))?.value).toEqual(value);
      }
      expect(await store.keys.get('pack:other', 'v')).toBeNull();
      expect(await store.keys.delete('system', 'v')).toBe(true);
      expect(await store.keys.delete('system', 'v')).toBe(false);
      expect(await store.keys.get('system', 'v')).toBeNull();
    });

    it('keeps the secret flag and lists a scope by name, with a prefix', async () => {
      const store = storeOf();
      await store.keys.put({ scope: 'system', name: 'oncall', value: 'ann' });
      await store.keys.put({ scope: 'system', name: 'db_password', value: 'sealed:xyz', secret: true });
      await store.keys.put({ scope: 'system', name: 'db_host', value: 'db1' });
      await store.keys.put({ scope: 'system', name: 'db%_literal', value: 1 });
      await store.keys.put({ scope: 'pack:linux', name: 'db_host', value: 'other' });
      expect((await store.keys.get('system', 'db_password'))?.secret).toBe(true);
      expect((await store.keys.list('system')).map((k) => k.name)).toEqual(['db%_literal', 'db_host', 'db_password', 'oncall']);
      expect((await store.keys.list('system', { prefix: 'db_' })).map((k) => k.name)).toEqual(['db_host', 'db_password']);
      expect((await store.keys.list('system', { prefix: 'db%' })).map((k) => k.name)).toEqual(['db%_literal']);
      expect((await store.keys.list('system', { limit: 2 })).map((k) => k.name)).toEqual(['db%_literal', 'db_host']);
    });

    it('reads an expired entry as absent and purges it', async () => {
      const store = storeOf();
      await store.keys.put({ scope: 'system', name: 'gone', value: 1, expiresAt: new Date(Date.now() - 1000).toISOString() });
      await store.keys.put({ scope: 'system', name: 'stays', value: 2, expiresAt: new Date(Date.now() + 3_600_000).toISOString() });
      expect(await store.keys.get('system', 'gone')).toBeNull();
      expect((await store.keys.list('system')).map((k) => k.name)).toEqual(['stays']);
      await store.purgeExpired();
      expect((await store.keys.get('system', 'stays'))?.value).toBe(2);
    });

    it('refuses a bad entry, naming the field', async () => {
      const store = storeOf();
      await expect(store.keys.put({ scope: '', name: 'x', value: 1 })).rejects.toBeInstanceOf(ValidationError);
      await expect(store.keys.put({ scope: 'system', name: 'x', value: 1, expiresAt: 'soon' })).rejects.toBeInstanceOf(ValidationError);
    });
  });
}
