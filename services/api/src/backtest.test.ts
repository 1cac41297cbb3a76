/**
 * POST /v1/rules/backtest: a saved rule or a draft replayed over stored events; bad input is a 400
 * naming the field, an unknown rule a 404, and nothing at all is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId, type BacktestReport, type ReflexEvent } from '@reflex/model';
import { bearer, makeKey, startTestApi, type TestApi } from './testing.ts';

describe('rule backtests', () => {
  let t: TestApi;
  let admin: Record<string, string>;
  let viewer: Record<string, string>;
  const events: ReflexEvent[] = [];
  const now = Date.now();

  const saved = {
    pack: 'demo',
    name: 'disk',
    trigger: { type: 'core.webhook', parameters: { url: 'bt-disk' } },
    criteria: { '>': [{ var: 'payload.body.value' }, 90] },
    throttle: { mode: 'once_within', window: '10m', groupBy: ['payload.body.host'] },
    action: { ref: 'core.echo', parameters: { message: '{{ payload.body.host }} at {{ payload.body.value }}%' } },
  };

  beforeAll(async () => {
    t = await startTestApi({ auth: true });
    admin = bearer(t.adminKey);
    viewer = bearer(await makeKey(t.store, 'viewer'));
    expect((await t.app.inject({ method: 'POST', url: '/v1/rules', headers: admin, payload: saved })).statusCode).toBe(201);
    // An hour of history: db1 flapping (5 events a minute apart), db2 fine, and an event of another url.
    const body = (host: string, value: number) => ({ body: { host, value }, headers: {}, query: {} });
    const at = (minutesAgo: number): string => new Date(now - minutesAgo * 60_000).toISOString();
    let i = 0;
    const add = (minutesAgo: number, payload: ReturnType<typeof body>, url = 'bt-disk'): void => {
      events.push({ id: `${newId().slice(0, 20)}${String(++i).padStart(6, '0')}`, type: 'core.webhook', triggerParameters: { url }, source: 'webhook', payload, occurredAt: at(minutesAgo), traceId: 't' });
    };
    for (const m of [50, 49, 48, 47, 46]) add(m, body('db1', 97));
    add(40, body('db2', 20));
    add(30, body('db3', 99), 'elsewhere');
    add(3 * 60, body('db1', 99)); // 3 hours ago: inside 24h, outside 2h
    for (const e of events) await t.store.events.insert(e);
  });

  afterAll(async () => {
    await t.close();
  });

  const backtest = (payload: object, headers = viewer) => t.app.inject({ method: 'POST', url: '/v1/rules/backtest', headers, payload });

  it('replays a saved rule over the range: matches, throttled repeats, firings with parameters (a viewer may)', async () => {
    const res = await backtest({ rule: 'demo.disk', since: '2h' });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json<BacktestReport>();
    expect(report).toMatchObject({ rule: 'demo.disk', draft: false, triggerType: 'core.webhook', scanned: 7, considered: 6, matched: 5, wouldFire: 1, limited: false });
    expect(report.counts).toMatchObject({ fired: 1, throttled: 4, no_match: 1 });
    expect(report.entries.map((e) => e.outcome)).toEqual(['fired', 'throttled', 'throttled', 'throttled', 'throttled', 'no_match']);
    expect(report.entries[0]).toMatchObject({ action: 'core.echo', parameters: { message: 'db1 at 97%' } });

    const longer = (await backtest({ rule: 'demo.disk', since: '24h', show: 'fired' })).json<BacktestReport>();
    expect([longer.scanned, longer.wouldFire, longer.entries.length]).toEqual([8, 2, 2]);
    const limited = (await backtest({ rule: 'demo.disk', since: '24h', limit: 3 })).json<BacktestReport>();
    expect([limited.scanned, limited.limited]).toEqual([3, true]);
    expect(limited.notes.join(' ')).toContain('only the newest 3');
  });

  it('replays a draft, with a group window firing once', async () => {
    const draft = {
      pack: 'demo',
      name: 'disk_grouped',
      trigger: { type: 'core.webhook', parameters: { url: 'bt-disk' } },
      criteria: { '>': [{ var: 'payload.body.value' }, 90] },
      group: { groupBy: ['payload.body.host'], groupWait: '30s', groupInterval: '5m', repeatInterval: '4h' },
      action: { ref: 'core.echo', parameters: { message: '{{ group.labels.host }}: {{ group.events }} events' } },
    };
    const res = await backtest({ draft, since: '2h' });
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json<BacktestReport>();
    expect(report).toMatchObject({ rule: 'demo.disk_grouped', draft: true, wouldFire: 1 });
    expect(report.counts).toMatchObject({ grouped: 5, fired: 1 });
    expect(report.entries.find((e) => e.kind === 'window')).toMatchObject({ outcome: 'fired', parameters: { message: 'db1: 1 events' } });
  });

  it('refuses bad input with a 400 naming the field, and an unknown rule with a 404', async () => {
    const field = async (payload: object): Promise<string[]> => {
      const res = await backtest(payload);
      expect(res.statusCode, res.body).toBe(400);
      return res.json().error.details.map((d: { field: string }) => d.field);
    };
    expect(await field({ rule: 'demo.disk', since: 'yesterday' })).toEqual(['body.since']);
    expect(await field({ rule: 'demo.disk', since: '400d' })).toEqual(['body.since']);
    expect(await field({ rule: 'demo.disk', since: '1h', until: '2h' })).toEqual(['body.until']);
    expect(await field({ rule: 'demo.disk', since: '2024-01-01T00:00:00Z', until: '2024-03-01T00:00:00Z' })).toEqual(['body.since']);
    expect(await field({ rule: 'demo.disk', since: '2999-01-01T00:00:00Z', until: '2999-01-02T00:00:00Z' })).toEqual(['body.until']);
    expect(await field({ since: '1h' })).toEqual(['body.rule']);
    expect(await field({ rule: 'demo.disk', draft: saved })).toEqual(['body.rule']);
    expect(await field({ draft: { ...saved, criteria: { frobnicate: [1] } } })).toEqual(['body.draft.criteria.frobnicate']);
    expect(await field({ draft: { ...saved, action: { ref: 'core.nothing' } } })).toEqual(['body.draft.action.ref']);
    expect(await field({ rule: 'demo.disk', limit: 1_000_000 })).toEqual(['body.limit']);

    const missing = await backtest({ rule: 'demo.nothing', since: '1h' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe('NOT_FOUND');
  });

  it('writes nothing: no execution, enforcement, decision, noise state or audit entry', async () => {
    const snapshot = async () => ({
      executions: (await t.store.executions.list({})).items.length,
      enforcements: (await t.store.enforcements.list({})).items.length,
      decisions: (await Promise.all(events.map((e) => t.store.decisions.listByEvent(e.id)))).flat().length,
      noise: (await t.store.noiseState.list()).length,
      audit: (await t.store.audit.list({})).items.length,
      events: (await t.store.events.list({})).items.length,
    });
    const before = await snapshot();
    expect((await backtest({ rule: 'demo.disk', since: '24h' }, admin)).statusCode).toBe(200);
    expect((await backtest({ draft: { ...saved, name: 'other' }, since: '24h' }, admin)).statusCode).toBe(200);
    expect(await snapshot()).toEqual({ ...before, executions: 0, enforcements: 0, decisions: 0, noise: 0 });
  });

  it('needs keys:read on the keys its templates read, and shows secrets masked', async () => {
    expect((await t.app.inject({ method: 'PUT', url: '/v1/keys/system/bt-token', headers: admin, payload: { value: 'hunter2-the-secret', secret: true } })).statusCode).toBe(201);
    const draft = { ...saved, name: 'kv', throttle: undefined, action: { ref: 'core.echo', parameters: { message: '{{ kv.system["bt-token"] }} {{ payload.body.host }}' } } };
    const res = await backtest({ draft, since: '2h', show: 'fired', maxEntries: 1 });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json<BacktestReport>().entries[0]?.parameters).toEqual({ message: '******** db1' });
    expect(res.body).not.toContain('hunter2');

    await t.store.roles.put({ name: 'no-keys', grants: [{ permissions: ['rules:read', 'events:read'] }], createdAt: 'x', updatedAt: 'x' });
    const noKeys = bearer(await makeKey(t.store, 'no-keys'));
    expect((await backtest({ draft, since: '2h' }, noKeys)).statusCode).toBe(403);
    expect((await backtest({ rule: 'demo.disk', since: '2h' }, noKeys)).statusCode).toBe(200);
  });
});
