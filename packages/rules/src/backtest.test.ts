/**
 * Backtests replay events through the engine's own decisions, in memory: criteria, silences at the
 * event's time, throttle windows and alert groups on the events' clock, parameters rendered and checked.
 */
import { describe, expect, it } from 'vitest';
import { ValidationError, type Action, type ReflexEvent, type Rule, type Silence } from '@reflex/model';
import { backtestRule, type BacktestInput } from './backtest.ts';
import { compileSilence } from './noise/silences.ts';

const T0 = Date.parse('2024-05-01T12:00:00.000Z');
const S = 1000;
const at = (ms: number): string => new Date(ms).toISOString();

const echo: Action = {
  ref: 'core.echo',
  pack: 'core',
  name: 'echo',
  enabled: true,
  runner: 'echo',
  parametersSchema: { type: 'object', additionalProperties: false, required: ['message'], properties: { message: { type: 'string' } } },
};

function rule(extra: Partial<Rule> = {}): Rule {
  return {
    ref: 'demo.disk',
    pack: 'demo',
    name: 'disk',
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
    criteria: { '>': [{ var: 'payload.body.value' }, 90] },
    action: { ref: 'core.echo', parameters: { message: '{{ payload.body.host }} at {{ payload.body.value }}%' } },
    source: 'api',
    createdAt: 'x',
    updatedAt: 'x',
    ...extra,
  };
}

let seq = 0;
function event(offsetMs: number, body: Record<string, unknown>, url = 'alerts'): ReflexEvent {
  return {
    id: `evt-${String(++seq).padStart(4, '0')}`,
    type: 'core.webhook',
    triggerParameters: { url },
    source: 'webhook',
    payload: { body, headers: {}, query: {} } as ReflexEvent['payload'],
    occurredAt: at(T0 + offsetMs),
    traceId: 't',
  };
}

const run = (input: Partial<BacktestInput> & { events: ReflexEvent[] }) =>
  backtestRule({ rule: rule(), action: echo, since: at(T0 - 3600 * S), until: at(T0 + 3600 * S), ...input });

describe('backtestRule', () => {
  it('fires where the criteria match, with the rendered parameters, and says why not elsewhere', () => {
    const events = [event(0, { host: 'db1', value: 97 }), event(S, { host: 'db2', value: 40 }), event(2 * S, { host: 'db3', value: 99 }, 'other')];
    const report = run({ events });
    expect(report).toMatchObject({ rule: 'demo.disk', scanned: 3, considered: 2, matched: 1, wouldFire: 1, omitted: 0, limited: false });
    expect(report.counts).toMatchObject({ fired: 1, no_match: 1, throttled: 0 });
    expect(report.entries.map((e) => [e.eventId, e.outcome])).toEqual([
      [events[0]!.id, 'fired'],
      [events[1]!.id, 'no_match'],
    ]);
    expect(report.entries[0]).toMatchObject({ kind: 'event', action: 'core.echo', parameters: { message: 'db1 at 97%' }, occurredAt: at(T0) });
    expect(report.entries[1]?.reason).toBe('the criteria do not match');
    expect(report.notes.join('\n')).toContain('inhibitions are not simulated');
  });

  it('names the failing conditions, and reports a firing that could not render as failed', () => {
    const r = rule({ criteria: { and: [{ '==': [{ var: 'payload.body.status' }, 'firing'] }, { '>': [{ var: 'payload.body.value' }, 90] }] } });
    const report = run({ rule: r, events: [event(0, { status: 'firing', value: 50 }), event(S, { status: 'firing', value: 95 })] });
    expect(report.entries[0]).toMatchObject({ outcome: 'no_match', reason: 'not met: criteria.and.1' });
    // No host in the payload: the template fails, as the engine's enforcement would.
    expect(report.entries[1]).toMatchObject({ outcome: 'failed', error: { code: 'VALIDATION_FAILED' } });
    expect(report.entries[1]?.reason).toContain('payload.body.host');
    expect(report.wouldFire).toBe(0);
    expect(run({ action: null, events: [event(0, { host: 'a', value: 95 })] }).entries[0]).toMatchObject({ outcome: 'failed', error: { code: 'NOT_FOUND' } });
  });

  it('once_within: the first event of a window fires, repeats within it are throttled, the next window fires again', () => {
    const r = rule({ throttle: { mode: 'once_within', window: '10m', groupBy: ['payload.body.host'] } });
    const events = [
      event(0, { host: 'db1', value: 95 }),
      event(60 * S, { host: 'db1', value: 96 }),
      event(120 * S, { host: 'db2', value: 97 }),
      event(599 * S, { host: 'db1', value: 98 }),
      event(601 * S, { host: 'db1', value: 99 }),
    ];
    const report = run({ rule: r, events });
    expect(report.entries.map((e) => e.outcome)).toEqual(['fired', 'throttled', 'fired', 'throttled', 'fired']);
    expect(report.counts).toMatchObject({ fired: 3, throttled: 2 });
    expect(report.entries[1]).toMatchObject({ window: { mode: 'once_within', key: 'host="db1"', id: events[0]!.id } });
    expect(report.entries[1]?.reason).toContain(`opened by event ${events[0]!.id}`);
  });

  it('group: a group window produces one firing at group_wait with every alert, not one per event', () => {
    const r = rule({
      criteria: { exists: 'payload.body.alertname' },
      group: { groupBy: ['payload.body.alertname'], alertKey: ['payload.body.host'], groupWait: '30s', groupInterval: '5m', repeatInterval: '4h' },
      action: { ref: 'core.echo', parameters: { message: '{{ group.labels.alertname }}: {{ group.firing }} firing' } },
    });
    const events = [event(0, { alertname: 'DiskFull', host: 'db1' }), event(5 * S, { alertname: 'DiskFull', host: 'db2' }), event(10 * S, { alertname: 'DiskFull', host: 'db3' })];
    const report = run({ rule: r, events, until: at(T0 + 60 * S) });
    expect(report.counts).toMatchObject({ grouped: 3, fired: 1 });
    expect(report.wouldFire).toBe(1);
    const firing = report.entries.find((e) => e.kind === 'window');
    expect(firing).toMatchObject({
      outcome: 'fired',
      at: at(T0 + 30 * S),
      eventId: events[2]!.id,
      parameters: { message: 'DiskFull: 3 firing' },
      window: { mode: 'group', seq: 1, count: 3, key: 'alertname="DiskFull"' },
    });
    // Entries are in time order: the three events, then the flush at group_wait.
    expect(report.entries.map((e) => e.kind)).toEqual(['event', 'event', 'event', 'window']);
    // The group stays open (alerts still firing): it is due again at repeat_interval.
    expect(report.pending).toEqual([expect.objectContaining({ mode: 'group', key: 'alertname="DiskFull"', dueAt: at(T0 + 30 * S + 4 * 3600 * S) })]);
  });

  it('stops simulating windows after a fixed number of firings, and says so', () => {
    const r = rule({
      criteria: { exists: 'payload.body.alertname' },
      group: { groupBy: ['payload.body.alertname'], groupWait: '1ms', groupInterval: '1ms', repeatInterval: '1ms' },
    });
    // A group repeating every millisecond for a day would mean 86 million firings.
    const report = run({ rule: r, events: [event(0, { alertname: 'Flood' })], until: at(T0 + 24 * 3600 * S) });
    expect(report.wouldFire).toBeLessThanOrEqual(10_000);
    expect(report.notes.join('\n')).toMatch(/stopped simulating windows and groups after 10000 firings/);
  });

  it('a group whose wait has not passed by `until` fires nothing and is listed as pending', () => {
    const r = rule({ criteria: null, group: { groupBy: ['payload.body.alertname'], groupWait: '30s' } });
    const report = run({ rule: r, events: [event(0, { alertname: 'X', value: 1 })], until: at(T0 + 10 * S) });
    expect(report.wouldFire).toBe(0);
    expect(report.pending).toEqual([expect.objectContaining({ mode: 'group', dueAt: at(T0 + 30 * S), count: 1 })]);
  });

  it('applies the silences that were active when each event occurred', () => {
    const silence: Silence = {
      id: 'sil-1',
      matchers: [{ path: 'payload.body.host', op: '=', value: 'db1' }],
      startsAt: at(T0 + 30 * S),
      endsAt: at(T0 + 90 * S),
      createdBy: 'ann',
      comment: 'maintenance',
      createdAt: at(T0),
      updatedAt: at(T0),
    };
    const events = [event(0, { host: 'db1', value: 95 }), event(60 * S, { host: 'db1', value: 95 }), event(120 * S, { host: 'db1', value: 95 })];
    const report = run({ events, silences: [compileSilence(silence)] });
    expect(report.entries.map((e) => e.outcome)).toEqual(['fired', 'silenced', 'fired']);
    expect(report.entries[1]).toMatchObject({ silenceId: 'sil-1' });
  });

  it('lists entries by `show`, up to `maxEntries`, and counts the rest', () => {
    const events = Array.from({ length: 10 }, (_, i) => event(i * S, { host: `h${i}`, value: i % 2 === 0 ? 95 : 10 }));
    const firedOnly = run({ events, show: 'fired', maxEntries: 3 });
    expect(firedOnly.entries.map((e) => e.outcome)).toEqual(['fired', 'fired', 'fired']);
    expect([firedOnly.omitted, firedOnly.counts.fired, firedOnly.counts.no_match]).toEqual([2, 5, 5]);
    expect(run({ events, show: 'matched' }).entries).toHaveLength(5);
  });

  it('evaluates timediff at the event time, not now', () => {
    const r = rule({ criteria: { '<': [{ timediff: { var: 'payload.body.at' } }, 60] } });
    const report = run({ rule: r, events: [event(0, { host: 'a', value: 1, at: at(T0 - 30 * S) }), event(0, { host: 'b', value: 1, at: at(T0 - 120 * S) })] });
    expect(report.entries.map((e) => e.outcome)).toEqual(['fired', 'no_match']);
  });

  it('refuses a rule that does not compile, naming the field', () => {
    expect(() => run({ rule: rule({ criteria: { frobnicate: [1] } }), events: [] })).toThrow(ValidationError);
    try {
      run({ rule: rule({ criteria: { frobnicate: [1] } }), events: [] });
    } catch (err) {
      expect((err as ValidationError).details?.[0]?.field).toBe('criteria.frobnicate');
    }
  });
});
