import path from 'node:path';
import { validateUser } from '@reflex/model';
import { loadPack } from '@reflex/packs';
import { describe, expect, it } from 'vitest';

describe('the core pack', () => {
  it('loads with zero errors', async () => {
    const pack = await loadPack(import.meta.dirname);
    expect(pack.errors).toEqual([]);
    expect(pack.manifest).toMatchObject({ name: 'core', version: '0.1.0' });
    expect(pack.triggerTypes.map((t) => t.ref)).toEqual(['core.interval', 'core.webhook']);
    expect(pack.actions.map((a) => [a.ref, a.runner])).toEqual([
      ['core.echo', 'echo'],
      ['core.noop', 'noop'],
    ]);
  });

  it('has trigger and action schemas that accept and refuse what they should', async () => {
    const pack = await loadPack(path.resolve(import.meta.dirname));
    const schema = (ref: string, which: 'parametersSchema' | 'payloadSchema') => {
      const found = pack.triggerTypes.find((t) => t.ref === ref)?.[which];
      if (found === undefined) throw new Error(`${ref} has no ${which}`);
      return found;
    };
    const ok = (s: Record<string, unknown>, data: unknown) => () => validateUser(s, data, 'x', 'x');

    expect(ok(schema('core.webhook', 'parametersSchema'), { url: 'github/push' })).not.toThrow();
    expect(ok(schema('core.webhook', 'parametersSchema'), { url: '/abs' })).toThrow();
    expect(ok(schema('core.webhook', 'parametersSchema'), {})).toThrow();
    expect(ok(schema('core.webhook', 'payloadSchema'), { body: { a: 1 }, headers: { 'x-a': 'b' }, query: {} })).not.toThrow();
    expect(ok(schema('core.webhook', 'payloadSchema'), { body: null, headers: { 'X-A': 'b' }, query: {} })).toThrow();

    const interval = { delay: 5 };
    expect(ok(schema('core.interval', 'parametersSchema'), interval)).not.toThrow();
    expect(interval).toEqual({ delay: 5, unit: 'seconds' });
    expect(ok(schema('core.interval', 'parametersSchema'), { delay: 0 })).toThrow();
    expect(ok(schema('core.interval', 'parametersSchema'), { delay: 1, unit: 'weeks' })).toThrow();
    expect(ok(schema('core.interval', 'payloadSchema'), { executed_at: '2030-01-01T00:00:00Z', schedule: interval })).not.toThrow();

    const echo = pack.actions.find((a) => a.ref === 'core.echo')?.parametersSchema ?? {};
    expect(ok(echo, { message: 'hi' })).not.toThrow();
    expect(ok(echo, {})).toThrow();
    const noop = pack.actions.find((a) => a.ref === 'core.noop')?.parametersSchema ?? {};
    expect(ok(noop, {})).not.toThrow();
    expect(ok(noop, { x: 1 })).toThrow();
  });
});
