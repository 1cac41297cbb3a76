import { describe, expect, it } from 'vitest';
import { ReflexError, SECRET_MASK } from '@reflex/model';
import { openKeyValue, sealKeyValue, secretMasker } from './kv-secrets.ts';
import { newSecretsKey } from './seal.ts';

describe('datastore secrets', () => {
  const key = newSecretsKey();

  it('seal any JSON value and open it again under the same scope and name only', () => {
    for (const value of ['s3cret', 42, { user: 'ci', token: 'abc' }, ['x'], null, true]) {
      const sealed = sealKeyValue(key, 'system', 'token', value);
      expect(openKeyValue(key, 'system', 'token', sealed)).toEqual(value);
    }
    const sealed = sealKeyValue(key, 'system', 'token', 's3cret');
    expect(sealed).toMatch(/^v1\./);
    expect(sealed).not.toContain('s3cret');
    for (const [scope, name, k] of [
      ['system', 'other', key],
      ['pack:ops', 'token', key],
      ['system', 'token', newSecretsKey()],
    ] as const) {
      expect(() => openKeyValue(k, scope, name, sealed)).toThrow(ReflexError);
    }
    expect(() => openKeyValue(key, 'system', 'token', 17)).toThrow(/not sealed text/);
  });

  it('mask whole values and their text inside strings, longest first', () => {
    const masker = secretMasker(['s3cret', 's3cret-longer', 4242, { user: 'ci', token: 'tok-xyz' }]);
    expect(
      masker.mask({
        a: 's3cret',
        b: 'Bearer s3cret-longer!',
        c: 4242,
        d: 'pin 4242',
        e: { token: 'tok-xyz', user: 'ci' },
        f: ['tok-xyz', 'plain'],
        g: true,
      }),
    ).toEqual({
      a: SECRET_MASK,
      b: `Bearer ${SECRET_MASK}!`,
      c: SECRET_MASK,
      d: `pin ${SECRET_MASK}`,
      e: SECRET_MASK,
      f: [SECRET_MASK, 'plain'],
      g: true,
    });
    expect(masker.touches({ x: 'nothing here' })).toBe(false);
    expect(masker.touches({ x: 'has s3cret' })).toBe(true);
    expect(secretMasker([]).mask({ a: 's3cret' })).toEqual({ a: 's3cret' });
    // Booleans and null are never treated as secrets (they would mask every flag).
    expect(secretMasker([true, null]).mask({ a: true, b: null, c: 'true' })).toEqual({ a: true, b: null, c: 'true' });
  });
});
