/**
 * Noise control's pure transitions, driven by a clock the test owns and a map standing in for the
 * store (same contract: expired state reads as absent, `write: null` deletes, no write leaves it).
 */
import { describe, expect, it } from 'vitest';
import { eventContext, ValidationError, type JsonObject, type ReflexEvent, type Rule, type Silence } from '@reflex/model';
import { compileRule } from '../compile.ts';
import { claimGroup, finishGroup, foldGroup, isResolution, type GroupSnapshot } from './group.ts';
import { compileInhibition, foldInhibitionSource, inhibitionProblems, inhibitionRole, activeSource } from './inhibitions.ts';
import { compileSilence, matcherProblems, silenceFor } from './silences.ts';
import { compileNoise, noiseProblems, type CompiledGroup, type CompiledThrottle } from './spec.ts';
import { identityOf, noiseKey, type CurrentState, type PendingFiring, type StateChange, type StateWrite } from './state.ts';
import { claimOnceAfter, finishOnceAfter, foldOnceAfter, foldOnceWithin, foldThreshold } from './throttle.ts';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const S = 1000;

/** The store's update contract, in memory. */
class Memory {
  readonly states = new Map<string, StateWrite>();
  update<T>(key: string, nowMs: number, apply: (current: CurrentState | null) => StateChange<T>): T {
    const stored = this.states.get(key);
    const live = stored !== undefined && (stored.expiresAt === undefined || Date.parse(stored.expiresAt) > nowMs) ? stored : undefined;
    const change = apply(live === undefined ? null : { owner: live.owner, data: structuredClone(live.data) });
    if (change.write === null) this.states.delete(key);
    else if (change.write !== undefined) this.states.set(key, structuredClone(change.write));
    return change.result;
  }
  dueAt(key: string): number | undefined {
    const at = this.states.get(key)?.dueAt;
    return at === undefined ? undefined : Date.parse(at);
  }
}

let seq = 0;
function alertEvent(labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing', id = `evt-${String(++seq).padStart(4, '0')}`): ReflexEvent {
  return {
    id,
    type: 'alerting.alertmanager',
    source: 'webhook',
    payload: { status, alert: { status, labels, fingerprint: `${labels['alertname']}:${labels['instance'] ?? ''}` } },
    occurredAt: new Date(T0).toISOString(),
    traceId: 't',
  };
}

function rule(extra: Partial<Rule>): Rule {
  return {
    ref: 'demo.noise',
    pack: 'demo',
    name: 'noise',
    enabled: true,
    trigger: { type: 'alerting.alertmanager' },
    action: { ref: 'chat.post', parameters: { text: 'x' } },
    source: 'api',
    createdAt: 'x',
    updatedAt: 'x',
    ...extra,
  };
}

describe('noise specs', () => {
  it('names every problem of a throttle or group, rooted at its field', () => {
    const fields = (r: Partial<Rule>) => noiseProblems(rule(r)).map((d) => d.field);
    expect(fields({ throttle: { mode: 'once_within', window: '5m' }, group: {} })).toEqual(['group']);
    expect(fields({ throttle: { mode: 'threshold', window: '5m' } })).toEqual(['throttle.threshold']);
    expect(fields({ throttle: { mode: 'once_within', window: '5m', threshold: 3 } })).toEqual(['throttle.threshold']);
    expect(fields({ throttle: { mode: 'once_within', window: 'soon' } })).toEqual(['throttle.window']);
    expect(fields({ throttle: { mode: 'once_within', window: 0 } })).toEqual(['throttle.window']);
    expect(fields({ throttle: { mode: 'once_within', window: '31d' } })).toEqual(['throttle.window']);
    expect(fields({ group: { groupBy: ['payload.a.name', 'payload.b.name'] } })).toEqual(['group.groupBy.1']);
    expect(fields({ group: { groupBy: ['payload.__proto__.x'] } })).toEqual(['group.groupBy.0']);
    expect(fields({ group: { groupWait: '1x', resolved: { nope: [1] } } })).toEqual(['group.groupWait', 'group.resolved.nope']);
    expect(() => compileRule(rule({ group: { groupInterval: -1 } }))).toThrow(ValidationError);
  });

  it('applies Alertmanager defaults and reads durations', () => {
    const group = compileNoise(rule({ group: { groupBy: ['payload.alert.labels.alertname'] } })) as CompiledGroup;
    expect(group).toMatchObject({ groupWaitMs: 30 * S, groupIntervalMs: 300 * S, repeatIntervalMs: 4 * 3600 * S, notifyResolved: true, labelNames: ['alertname'] });
    const throttle = compileNoise(rule({ throttle: { mode: 'once_within', window: '1h30m' } })) as CompiledThrottle;
    expect(throttle.windowMs).toBe(90 * 60 * S);
    expect((compileNoise(rule({ throttle: { mode: 'once_within', window: 0.25 } })) as CompiledThrottle).windowMs).toBe(250);
    expect(compileRule(rule({ throttle: { mode: 'once_after', window: '500ms' } })).noise?.kind).toBe('throttle');
  });

  it('keys groups by their label values', () => {
    const e = alertEvent({ alertname: 'HighCPU', cluster: 'prod' });
    const id = identityOf(['payload.alert.labels.alertname', 'payload.alert.labels.cluster', 'payload.missing'], ['alertname', 'cluster', 'missing'], eventContext(e));
    expect(id).toEqual({ key: 'alertname="HighCPU",cluster="prod",missing=""', labels: { alertname: 'HighCPU', cluster: 'prod', missing: null } });
    expect(noiseKey('demo.r', 'group', id.key)).toMatch(/^noise:demo\.r:group:[0-9a-f]{32}$/);
  });
});

describe('throttle windows', () => {
  const spec = (mode: CompiledThrottle['mode'], windowMs: number, threshold = 1): CompiledThrottle => ({ kind: 'throttle', mode, windowMs, groupBy: [], labelNames: [], threshold });
  const ident = { key: 'alertname="A"', labels: { alertname: 'A' } };

  it('once_within fires on the first event and suppresses repeats until the window has passed', () => {
    const mem = new Memory();
    const s = spec('once_within', 60 * S);
    const fold = (e: ReflexEvent, at: number) => mem.update('k', at, (c) => foldOnceWithin(s, ident, 'demo.r', c, e, at));
    const first = alertEvent({ alertname: 'A' });
    expect(fold(first, T0)).toMatchObject({ outcome: 'fired', window: { id: first.id, count: 1 }, context: { window: { count: 1, key: 'alertname="A"' } } });
    expect(fold(alertEvent({ alertname: 'A' }), T0 + 10 * S)).toMatchObject({ outcome: 'throttled', window: { id: first.id, count: 2 } });
    const third = alertEvent({ alertname: 'A' });
    expect(fold(third, T0 + 20 * S).outcome).toBe('throttled');
    // Redelivered: the opening event fires again (same derived ids); a suppressed one stays suppressed.
    expect(fold(first, T0 + 30 * S).outcome).toBe('fired');
    expect(fold(third, T0 + 30 * S).outcome).toBe('throttled');
    expect(mem.states.get('k')?.expiresAt).toBe(new Date(T0 + 60 * S).toISOString());
    const later = alertEvent({ alertname: 'A' });
    expect(fold(later, T0 + 60 * S)).toMatchObject({ outcome: 'fired', window: { id: later.id } });
  });

  it('threshold fires on the Nth event within a sliding window, then stays quiet for a window', () => {
    const mem = new Memory();
    const s = spec('threshold', 10 * S, 3);
    const fold = (at: number, e = alertEvent({ alertname: 'A' })) => mem.update('k', at, (c) => foldThreshold(s, ident, 'demo.r', c, e, at)).outcome;
    expect(fold(T0)).toBe('throttled');
    expect(fold(T0 + 5 * S)).toBe('throttled');
    // The first has slid out of the window: two within 10 s, not three.
    expect(fold(T0 + 11 * S)).toBe('throttled');
    const third = alertEvent({ alertname: 'A' });
    expect(fold(T0 + 12 * S, third)).toBe('fired');
    expect(fold(T0 + 12 * S, third)).toBe('fired');
    expect(fold(T0 + 13 * S)).toBe('throttled');
    expect(fold(T0 + 21 * S)).toBe('throttled');
    expect(fold(T0 + 22 * S)).toBe('throttled');
    expect(fold(T0 + 23 * S)).toBe('throttled');
    expect(fold(T0 + 24 * S)).toBe('fired');
  });

  it('once_after collects, and the scheduler fires once when the window closes, with every event', () => {
    const mem = new Memory();
    const s = spec('once_after', 10 * S);
    const fold = (at: number, e = alertEvent({ alertname: 'A' })) => mem.update('k', at, (c) => foldOnceAfter(s, ident, 'demo.r', c, e, at));
    const first = alertEvent({ alertname: 'A' });
    expect(fold(T0, first)).toMatchObject({ outcome: 'grouped', window: { id: first.id, count: 1, dueAt: new Date(T0 + 10 * S).toISOString() } });
    fold(T0 + S);
    const last = alertEvent({ alertname: 'A' });
    expect(fold(T0 + 2 * S, last)).toMatchObject({ outcome: 'grouped', window: { count: 3 } });
    expect(fold(T0 + 2 * S, last)).toMatchObject({ window: { count: 3 } });
    expect(mem.dueAt('k')).toBe(T0 + 10 * S);

    const claim = (at: number) => mem.update('k', at, (c) => claimOnceAfter('demo.r', c, at, 30 * S));
    expect(claim(T0 + 9 * S)).toBeUndefined();
    const pending = claim(T0 + 10 * S) as PendingFiring;
    expect(pending).toMatchObject({ windowId: first.id, seq: 1, events: 3, event: { id: last.id } });
    expect((pending.context['events'] as JsonObject[]).map((e) => (e['event'] as JsonObject)['id'])).toHaveLength(3);
    expect(pending.context['window']).toMatchObject({ count: 3, key: 'alertname="A"' });
    // Claimed and leased: another scheduler gets nothing until the lease runs out, then takes it over.
    expect(claim(T0 + 11 * S)).toBeUndefined();
    expect(mem.dueAt('k')).toBe(T0 + 40 * S);
    // An event after the close opens the next window, beside the pending firing.
    const next = alertEvent({ alertname: 'A' });
    expect(fold(T0 + 12 * S, next)).toMatchObject({ window: { id: next.id, count: 1 } });
    expect(claim(T0 + 41 * S)).toMatchObject({ windowId: first.id, seq: 1, leaseUntil: T0 + 71 * S });
    expect(mem.update('k', T0 + 41 * S, (c) => finishOnceAfter('demo.r', c, pending))).toBe(true);
    expect(mem.update('k', T0 + 41 * S, (c) => finishOnceAfter('demo.r', c, pending))).toBe(false);
    expect(mem.dueAt('k')).toBe(T0 + 22 * S);
    const second = claim(T0 + 41 * S) as PendingFiring;
    expect(second).toMatchObject({ windowId: next.id, events: 1 });
    mem.update('k', T0 + 41 * S, (c) => finishOnceAfter('demo.r', c, second));
    expect(mem.states.has('k')).toBe(false);
  });
});

describe('alert groups', () => {
  const spec = (overrides: Partial<CompiledGroup> = {}): CompiledGroup => ({
    ...(compileNoise(
      rule({
        group: {
          groupBy: ['payload.alert.labels.alertname'],
          groupWait: '30s',
          groupInterval: '5m',
          repeatInterval: '4h',
          alertKey: ['payload.alert.labels.instance'],
          resolved: { '==': [{ var: 'payload.alert.status' }, 'resolved'] },
        },
      }),
    ) as CompiledGroup),
    ...overrides,
  });

  /** A group with the test's own clock: fold events, tick the scheduler, collect notifications. */
  function harness(s: CompiledGroup) {
    const mem = new Memory();
    const sent: Array<{ at: number; group: GroupSnapshot }> = [];
    const key = 'g';
    return {
      mem,
      sent,
      fold(at: number, instance: string, status: 'firing' | 'resolved' = 'firing') {
        const e = alertEvent({ alertname: 'HighCPU', instance }, status);
        const ctx = eventContext(e);
        const ident = identityOf(s.groupBy, s.labelNames, ctx);
        const alert = identityOf(s.alertKey, s.alertNames, ctx);
        return mem.update(key, at, (c) => foldGroup(s, ident, alert, isResolution(s, ctx), 'demo.r', c, e, at));
      },
      /** Runs the scheduler at every due time up to `until`. */
      runUntil(until: number) {
        for (let due = mem.dueAt(key); due !== undefined && due <= until; due = mem.dueAt(key)) {
          const at = due;
          const pending = mem.update(key, at, (c) => claimGroup(s, 'demo.r', c, at, 30 * S));
          if (pending !== undefined) {
            sent.push({ at, group: pending.context['group'] as GroupSnapshot });
            mem.update(key, at, (c) => finishGroup('demo.r', c, pending));
          }
        }
      },
      summary: () => sent.map(({ at, group }) => `${(at - T0) / S}s #${group.seq} ${group.status} ${group.alerts.map((a) => `${String((a['labels'] as JsonObject)['instance'])}:${String(a['status'])}`).join(' ')}`),
    };
  }

  it('waits group_wait, notifies changes on the group_interval cadence, repeats, resolves and closes', () => {
    const h = harness(spec());
    expect(h.fold(T0, 'a')).toMatchObject({ outcome: 'grouped', window: { dueAt: new Date(T0 + 30 * S).toISOString() } });
    h.fold(T0 + 5 * S, 'b');
    for (let i = 0; i < 20; i++) h.fold(T0 + 10 * S + i, i % 2 === 0 ? 'a' : 'b');
    h.runUntil(T0 + 60 * S);
    expect(h.summary()).toEqual(['30s #1 firing a:firing b:firing']);

    // New alert at 100 s: next tick is 30 + 300 = 330 s; resolution of b at 200 s joins the same notification.
    h.fold(T0 + 100 * S, 'c');
    h.fold(T0 + 200 * S, 'b', 'resolved');
    h.runUntil(T0 + 1000 * S);
    expect(h.summary().slice(1)).toEqual(['330s #2 firing a:firing c:firing b:resolved']);

    // Nothing changes: it repeats at the first tick 4 h after the last notification.
    h.runUntil(T0 + 5 * 3600 * S);
    expect(h.summary().slice(2)).toEqual([`${330 + 4 * 3600}s #3 firing a:firing c:firing`]);

    // Everything resolves: one resolved notification, then the group closes.
    const t = T0 + 5 * 3600 * S;
    h.fold(t, 'a', 'resolved');
    h.fold(t + S, 'c', 'resolved');
    h.runUntil(t + 3600 * S);
    expect(h.summary().slice(3)).toEqual(['18030s #4 resolved a:resolved c:resolved']);
    expect(h.mem.states.size).toBe(0);

    // A resolution nobody holds changes nothing; a new firing event opens a new group.
    expect(h.fold(t + 3601 * S, 'a', 'resolved')).toMatchObject({ outcome: 'grouped', reason: expect.stringContaining('no open group') });
    expect(h.mem.states.size).toBe(0);
    h.fold(t + 3602 * S, 'a');
    expect(h.mem.dueAt('g')).toBe(t + 3632 * S);
  });

  it('absorbs a flap between two ticks, and drops alerts resolved before anyone heard of them', () => {
    const h = harness(spec());
    h.fold(T0, 'a');
    h.fold(T0 + S, 'b');
    h.fold(T0 + 2 * S, 'b', 'resolved');
    h.runUntil(T0 + 40 * S);
    expect(h.summary()).toEqual(['30s #1 firing a:firing']);
    h.fold(T0 + 100 * S, 'a', 'resolved');
    h.fold(T0 + 101 * S, 'a');
    h.runUntil(T0 + 400 * S);
    expect(h.summary()).toEqual(['30s #1 firing a:firing']);
  });

  it('keeps quiet about resolutions without notify_resolved, and resolves stale alerts after resolve_timeout', () => {
    const quiet = harness(spec({ notifyResolved: false }));
    quiet.fold(T0, 'a');
    quiet.runUntil(T0 + 30 * S);
    quiet.fold(T0 + 40 * S, 'a', 'resolved');
    quiet.runUntil(T0 + 3600 * S);
    expect(quiet.summary()).toEqual(['30s #1 firing a:firing']);
    expect(quiet.mem.states.size).toBe(0);

    const stale = harness(spec({ resolveTimeoutMs: 600 * S }));
    stale.fold(T0, 'a');
    stale.runUntil(T0 + 3600 * S);
    expect(stale.summary()).toEqual(['30s #1 firing a:firing', '630s #2 resolved a:resolved']);
  });

  it('hands a pending notification whose claimer died to the next scheduler, unchanged', () => {
    const s = spec();
    const h = harness(s);
    h.fold(T0, 'a');
    const first = h.mem.update('g', T0 + 30 * S, (c) => claimGroup(s, 'demo.r', c, T0 + 30 * S, 30 * S)) as PendingFiring;
    expect(first).toMatchObject({ seq: 1 });
    expect(h.mem.update('g', T0 + 31 * S, (c) => claimGroup(s, 'demo.r', c, T0 + 31 * S, 30 * S))).toBeUndefined();
    const again = h.mem.update('g', T0 + 60 * S, (c) => claimGroup(s, 'demo.r', c, T0 + 60 * S, 30 * S)) as PendingFiring;
    expect({ ...again, leaseUntil: 0 }).toEqual({ ...first, leaseUntil: 0 });
  });
});

describe('silences', () => {
  const silence = (matchers: Silence['matchers'], startsAt = T0, endsAt = T0 + 3600 * S): Silence => ({
    id: 's1',
    matchers,
    startsAt: new Date(startsAt).toISOString(),
    endsAt: new Date(endsAt).toISOString(),
    createdBy: 'ann',
    comment: 'c',
    createdAt: 'x',
    updatedAt: 'x',
  });
  const ctx = (labels: Record<string, string>, ref = 'demo.noise') => ({ ...eventContext(alertEvent(labels)), rule: { ref, pack: 'demo', name: 'noise' } });

  it('matches all matchers, regexes as a whole, rules by ref, and only while active', () => {
    const s = compileSilence(
      silence([
        { path: 'payload.alert.labels.alertname', op: '=', value: 'Noisy' },
        { path: 'payload.alert.labels.cluster', op: '=~', value: 'prod-.*' },
        { path: 'payload.alert.labels.team', op: '!=', value: 'db' },
        { path: 'rule.ref', op: '!~', value: 'audit\\..*' },
      ]),
    );
    expect(silenceFor([s], ctx({ alertname: 'Noisy', cluster: 'prod-b' }), T0)?.id).toBe('s1');
    expect(silenceFor([s], ctx({ alertname: 'Noisy', cluster: 'xprod-b' }), T0)).toBeUndefined();
    expect(silenceFor([s], ctx({ alertname: 'Noisy', cluster: 'prod-b', team: 'db' }), T0)).toBeUndefined();
    expect(silenceFor([s], ctx({ alertname: 'Noisy', cluster: 'prod-b' }, 'audit.log'), T0)).toBeUndefined();
    expect(silenceFor([s], ctx({ alertname: 'Noisy', cluster: 'prod-b' }), T0 - 1)).toBeUndefined();
    expect(silenceFor([s], ctx({ alertname: 'Noisy', cluster: 'prod-b' }), T0 + 3600 * S)).toBeUndefined();
    expect(matcherProblems([{ path: 'payload.x', op: '=~', value: '(' }]).map((d) => d.field)).toEqual(['matchers.0.value']);
    expect(matcherProblems([{ path: 'payload.constructor', op: '=', value: '' }]).map((d) => d.field)).toEqual(['matchers.0.path']);
  });
});

describe('inhibitions', () => {
  const inhibition = compileInhibition({
    id: 'i1',
    source: { '==': [{ var: 'payload.alert.labels.alertname' }, 'ClusterDown'] },
    target: { '==': [{ var: 'payload.alert.labels.severity' }, 'warning'] },
    resolved: { '==': [{ var: 'payload.alert.status' }, 'resolved'] },
    equal: ['payload.alert.labels.cluster'],
    duration: '1h',
    createdBy: 'ann',
    createdAt: 'x',
  });

  it('knows sources, resolutions and targets, keyed by the equal values', () => {
    const down = alertEvent({ alertname: 'ClusterDown', cluster: 'c', severity: 'warning' });
    const role = inhibitionRole(inhibition, eventContext(down));
    expect(role).toMatchObject({ source: true, resolution: false, target: false, equalValues: { 'payload.alert.labels.cluster': 'c' } });
    const target = inhibitionRole(inhibition, eventContext(alertEvent({ alertname: 'Latency', cluster: 'c', severity: 'warning' })));
    expect(target).toMatchObject({ source: false, target: true, key: role.key });
    expect(inhibitionRole(inhibition, eventContext(alertEvent({ alertname: 'Latency', cluster: 'd', severity: 'warning' }))).key).not.toBe(role.key);
    const up = inhibitionRole(inhibition, eventContext(alertEvent({ alertname: 'ClusterDown', cluster: 'c' }, 'resolved')));
    expect(up).toMatchObject({ source: true, resolution: true });

    const mem = new Memory();
    expect(mem.update(role.key, T0, () => foldInhibitionSource(inhibition, role, down, T0))).toBe('active');
    expect(mem.update(role.key, T0 + S, (c) => ({ result: activeSource(c) }))).toEqual({ eventId: down.id, seenAt: new Date(T0).toISOString() });
    expect(mem.update(role.key, T0 + 3600 * S, (c) => ({ result: activeSource(c) }))).toBeUndefined();
    mem.update(role.key, T0 + 2 * S, () => foldInhibitionSource(inhibition, role, down, T0 + 2 * S));
    mem.update(role.key, T0 + 3 * S, () => foldInhibitionSource(inhibition, up, down, T0 + 3 * S));
    expect(mem.states.size).toBe(0);
  });

  it('refuses an inhibition without source or target, or with a bad duration', () => {
    const fields = inhibitionProblems({ source: {}, target: { nope: 1 }, equal: ['payload.__proto__'], duration: 'x' }).map((d) => d.field);
    expect(fields).toEqual(['source', 'target.nope', 'equal.0', 'duration']);
  });
});
