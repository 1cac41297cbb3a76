/**
 * Noise-control routes: silences (create with endsAt or duration, list by status, expire), inhibitions
 * (checked criteria and paths), rules with throttle/group, and the decisions of an event.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decisionIdFor, type Decision, type ReflexEvent } from '@reflex/model';
import { bearer, makeKey, startTestApi, type TestApi } from './testing.ts';

describe('noise control routes', () => {
  let t: TestApi;
  let admin: Record<string, string>;
  let viewer: Record<string, string>;

  beforeAll(async () => {
    t = await startTestApi({ auth: true });
    admin = bearer(t.adminKey);
    viewer = bearer(await makeKey(t.store, 'viewer'));
  });

  afterAll(async () => {
    await t.close();
  });

  const matchers = [{ path: 'payload.alert.labels.alertname', op: '=', value: 'Noisy' }];

  it('creates a silence for a duration, lists it by status and ends it with DELETE', async () => {
    const created = await t.app.inject({ method: 'POST', url: '/v1/silences', headers: admin, payload: { matchers, duration: '2h', comment: 'maintenance' } });
    expect(created.statusCode).toBe(201);
    const silence = created.json();
    expect(silence).toMatchObject({ matchers, comment: 'maintenance', createdBy: 'test-admin', status: 'active' });
    expect(Date.parse(silence.endsAt) - Date.parse(silence.startsAt)).toBe(2 * 3600 * 1000);

    const later = new Date(Date.now() + 3_600_000).toISOString();
    const pending = await t.app.inject({
      method: 'POST',
      url: '/v1/silences',
      headers: admin,
      payload: { matchers, startsAt: later, endsAt: new Date(Date.now() + 7_200_000).toISOString(), comment: 'tonight', createdBy: 'ann' },
    });
    expect(pending.json()).toMatchObject({ status: 'pending', createdBy: 'ann' });

    expect((await t.app.inject({ url: '/v1/silences?status=active', headers: viewer })).json().items.map((s: { id: string }) => s.id)).toEqual([silence.id]);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/silences/${silence.id}`, headers: viewer })).statusCode).toBe(403);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/silences/${silence.id}`, headers: admin })).statusCode).toBe(204);
    expect((await t.app.inject({ url: `/v1/silences/${silence.id}`, headers: viewer })).json().status).toBe('expired');
    expect((await t.app.inject({ method: 'DELETE', url: '/v1/silences/nope', headers: admin })).statusCode).toBe(404);
    const audit = (await t.app.inject({ url: '/v1/audit?action=silence.expire', headers: admin })).json().items;
    expect(audit[0]?.target).toEqual({ type: 'silence', id: silence.id });
  });

  it('refuses a bad silence, naming the field', async () => {
    const post = (payload: object) => t.app.inject({ method: 'POST', url: '/v1/silences', headers: admin, payload });
    const fields = async (payload: object) => {
      const res = await post(payload);
      expect(res.statusCode).toBe(400);
      return res.json().error.details.map((d: { field: string }) => d.field);
    };
    expect(await fields({ matchers, comment: 'x' })).toContain('body.endsAt');
    expect(await fields({ matchers, comment: 'x', duration: '1h', endsAt: new Date().toISOString() })).toContain('body.endsAt');
    expect(await fields({ matchers: [{ path: 'payload.x', op: '=~', value: '(' }], duration: '1h', comment: 'x' })).toEqual(['body.matchers.0.value']);
    expect(await fields({ matchers: [{ path: 'payload.x', op: '~', value: 'a' }], duration: '1h', comment: 'x' })).toContain('body.matchers.0.op');
    expect(await fields({ matchers, endsAt: new Date(Date.now() - 1000).toISOString(), comment: 'x' })).toEqual(['body.endsAt']);
    expect(await fields({ matchers: [], duration: '1h', comment: 'x' })).toEqual(['body.matchers']);
  });

  it('creates, lists and deletes inhibitions, and refuses bad criteria', async () => {
    const body = {
      name: 'dc-down',
      source: { '==': [{ var: 'payload.alert.labels.alertname' }, 'DatacenterDown'] },
      target: { '==': [{ var: 'payload.alert.labels.severity' }, 'warning'] },
      equal: ['payload.alert.labels.datacenter'],
      duration: '30m',
    };
    const created = await t.app.inject({ method: 'POST', url: '/v1/inhibitions', headers: admin, payload: body });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ ...body, createdBy: 'test-admin' });
    expect((await t.app.inject({ url: '/v1/inhibitions', headers: viewer })).json().items).toHaveLength(1);
    const bad = await t.app.inject({ method: 'POST', url: '/v1/inhibitions', headers: admin, payload: { ...body, target: { nope: 1 }, equal: ['payload.__proto__'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { field: string }) => d.field)).toEqual(['body.target.nope', 'body.equal.0']);
    expect((await t.app.inject({ method: 'DELETE', url: `/v1/inhibitions/${created.json().id}`, headers: admin })).statusCode).toBe(204);
    expect((await t.app.inject({ url: `/v1/inhibitions/${created.json().id}`, headers: admin })).statusCode).toBe(404);
  });

  it('stores a rule with noise control, and refuses a bad one naming the field', async () => {
    const rule = {
      pack: 'demo',
      name: 'grouped',
      trigger: { type: 'core.webhook', parameters: { url: 'grouped' } },
      action: { ref: 'core.echo', parameters: { message: '{{ group.count }} alerts' } },
      group: { groupBy: ['payload.body.alertname'], groupWait: '10s', resolved: { '==': [{ var: 'payload.body.status' }, 'resolved'] } },
    };
    const created = await t.app.inject({ method: 'POST', url: '/v1/rules', headers: admin, payload: rule });
    expect(created.statusCode).toBe(201);
    expect(created.json().group).toEqual(rule.group);
    const both = await t.app.inject({ method: 'POST', url: '/v1/rules', headers: admin, payload: { ...rule, name: 'both', throttle: { mode: 'once_within', window: '5m' } } });
    expect(both.statusCode).toBe(400);
    expect(both.json().error.details.map((d: { field: string }) => d.field)).toEqual(['body.group']);
    const badWindow = await t.app.inject({ method: 'POST', url: '/v1/rules', headers: admin, payload: { ...rule, name: 'w', group: undefined, throttle: { mode: 'threshold', window: '5 minutes' } } });
    expect(badWindow.json().error.details.map((d: { field: string }) => d.field)).toEqual(expect.arrayContaining(['body.throttle.window']));
  });

  it('explains an event: each decision, and the later firings of the group it joined', async () => {
    const at = new Date().toISOString();
    await t.store.events.insert({ id: 'evt-1', type: 'core.webhook', source: 'test', payload: {}, occurredAt: at, traceId: 't' });
    const window = { id: 'evt-0', mode: 'group' as const, key: 'alertname="A"', seq: 0 };
    const decisions: Decision[] = [
      { id: decisionIdFor('evt-1', 'demo.a'), eventId: 'evt-1', rule: 'demo.a', outcome: 'grouped', reason: 'joined', at, traceId: 't', window },
      { id: decisionIdFor('evt-1', 'demo.b'), eventId: 'evt-1', rule: 'demo.b', outcome: 'silenced', reason: 'silenced by s', at, traceId: 't', silenceId: 's' },
      {
        id: 'dec-fired',
        eventId: 'evt-2',
        rule: 'demo.a',
        outcome: 'fired',
        reason: 'group notified (#1)',
        at: new Date(Date.parse(at) + 1000).toISOString(),
        traceId: 't',
        window: { ...window, seq: 1 },
        executionId: 'exe-1',
      },
    ];
    await t.store.decisions.insert(decisions);
    const res = await t.app.inject({ url: '/v1/events/evt-1/decisions', headers: viewer });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.items.map((d: Decision) => d.outcome)).toEqual(['grouped', 'silenced']);
    expect(body.items[0].windowFirings).toEqual([{ at: decisions[2]!.at, outcome: 'fired', seq: 1, executionId: 'exe-1', reason: 'group notified (#1)' }]);
    expect((await t.app.inject({ url: '/v1/events/nope/decisions', headers: viewer })).statusCode).toBe(404);
  });

  it('splits an Alertmanager notification into one event per alert, all or nothing', async () => {
    const seen: ReflexEvent[] = [];
    const consumer = await t.bus.consume({ stream: t.names.eventsStream, durable: 'split-observer' }, async (msg) => {
      seen.push(msg.json<ReflexEvent>());
    });
    try {
      const body = readFileSync(new URL('../../../packs/alerting/examples/alertmanager.json', import.meta.url), 'utf8');
      const res = await t.app.inject({ method: 'POST', url: '/v1/webhooks/alertmanager', headers: { 'content-type': 'application/json', 'x-reflex-trace': 'am-1' }, payload: body });
      expect(res.statusCode).toBe(202);
      expect(res.json()).toMatchObject({ traceId: 'am-1', eventIds: [expect.any(String), expect.any(String)] });
      const bad = JSON.parse(body) as { alerts: Array<{ status: string }> };
      bad.alerts[1]!.status = 'burning';
      const refused = await t.app.inject({ method: 'POST', url: '/v1/webhooks/alertmanager', headers: { 'content-type': 'application/json' }, payload: bad });
      expect(refused.statusCode).toBe(400);
      expect(refused.json().error.details[0].field).toBe('body.alert.status');
      const noList = await t.app.inject({ method: 'POST', url: '/v1/webhooks/alertmanager', headers: { 'content-type': 'application/json' }, payload: { version: '4' } });
      expect(noList.json().error.details[0].field).toBe('body.alerts');
      await new Promise((r) => setTimeout(r, 200));
      expect(seen.map((e) => [e.type, e.traceId, e.triggerParameters, (e.payload as { alert: { fingerprint: string } }).alert.fingerprint])).toEqual([
        ['alerting.alertmanager', 'am-1', { url: 'alertmanager' }, '7c3e0d2a1b9f4e01'],
        ['alerting.alertmanager', 'am-1', { url: 'alertmanager' }, '9a41c2d7e05b3f12'],
      ]);
      expect(seen[0]?.payload).toMatchObject({ receiver: 'reflex', status: 'firing', groupLabels: { alertname: 'HighCPU' } });
      expect(seen[0]?.payload).not.toHaveProperty('alerts');
    } finally {
      await consumer.stop();
    }
  });
});
