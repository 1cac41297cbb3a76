import { describe, expect, it } from 'vitest';
import { Refresher } from './refresher.ts';

describe('Refresher', () => {
  it('loads once for many waiters, again after invalidate, and retries after a failure', async () => {
    let loads = 0;
    let fail = false;
    const r = new Refresher(async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
      if (fail) throw new Error('store down');
    });
    await Promise.all([r.fresh(), r.fresh(), r.fresh()]);
    expect(loads).toBe(1);
    await r.fresh();
    expect(loads).toBe(1);
    r.invalidate();
    fail = true;
    await expect(r.fresh()).rejects.toThrow('store down');
    fail = false;
    await r.fresh();
    expect(loads).toBe(3);
  });

  it('reloads when invalidated during a load', async () => {
    let loads = 0;
    const r = new Refresher(async () => {
      loads++;
      await new Promise((resolve) => setTimeout(resolve, 5));
    });
    const first = r.fresh();
    r.invalidate();
    await first;
    expect(loads).toBe(2);
  });
});
