/**
 * An alert storm through the real pipeline (one embedded process: API, rules engine, chat notifier):
 * about three thousand alerts in Alertmanager's webhook format — repeats, a flapping alert, a burst,
 * a silenced alert, alerts muted by an inhibition, deploys to digest — and the EXACT messages that
 * reach a local server speaking Slack's incoming-webhook protocol, phase by phase.
 *
 * Time: windows are short (group_wait 1 s, group_interval 500 ms), and every assertion waits for
 * the events of a phase to be processed and the expected messages to arrive, then for a quiet spell
 * of several group intervals, so a slow machine only makes it slower. What the messages say does not
 * depend on timing: every Alertmanager notification carries its group's full state (as Alertmanager
 * sends it), each phase changes at most one alert per group, and the windows of the throttles are long.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import type { Decision, DecisionOutcome, Rule } from '@reflex/model';
import { loadConfig } from '@reflex/runtime';
import { startSlackWebhookServer, type SlackWebhookServer } from '../../packages/chat/test/servers.ts';
import { adminKeyOf, apiClient } from '../support/api-client.ts';
import { waitFor } from '../support/wait.ts';

const PACKS = fileURLToPath(new URL('../../packs', import.meta.url));
const PACK_RULE = 'alerting.alertmanager_to_chat';

type Status = 'firing' | 'resolved';

const SUMMARY: Record<string, string> = {
  HighCPU: 'CPU above 90%',
  DiskFull: 'disk above 95%',
  LatencyHigh: 'p99 above 2s',
  Noisy: 'flaky probe',
  ClusterDown: 'no node answers',
  Flapper: 'health check flaps',
  ErrorBurst: '5xx spike',
  Deploy: 'deployed',
};

/** One Alertmanager notification (webhook payload version 4) for one group: all its alerts, as Alertmanager sends them. */
function notification(alertname: string, cluster: string, severity: string, alerts: Array<[instance: string, status: Status, extra?: Record<string, string>]>) {
  return {
    version: '4',
    groupKey: `{}/{}:{alertname="${alertname}", cluster="${cluster}"}`,
    truncatedAlerts: 0,
    status: alerts.some(([, s]) => s === 'firing') ? 'firing' : 'resolved',
    receiver: 'reflex',
    groupLabels: { alertname, cluster },
    commonLabels: { alertname, cluster, severity },
    commonAnnotations: { summary: SUMMARY[alertname] ?? '' },
    externalURL: 'http://alertmanager.example.com:9093',
    alerts: alerts.map(([instance, status, extra]) => ({
      status,
      labels: { alertname, cluster, instance, severity, ...extra },
      annotations: { summary: SUMMARY[alertname] ?? '' },
      startsAt: '2024-05-01T12:00:00.000Z',
      endsAt: status === 'firing' ? '0001-01-01T00:00:00Z' : '2024-05-01T12:30:00.000Z',
      generatorURL: `http://prometheus.example.com:9090/graph?g0.expr=${alertname}`,
      fingerprint: `${alertname}/${cluster}/${instance}`,
    })),
  };
}

interface Post {
  url: string;
  body: object;
}

const times = (n: number, post: Post): Post[] => Array.from({ length: n }, () => post);

/** A fixed shuffle (the same storm every run). */
function shuffled<T>(items: T[], seed = 42): T[] {
  const out = [...items];
  let state = seed;
  for (let i = out.length - 1; i > 0; i--) {
    state = (state * 1103515245 + 12345) % 2 ** 31;
    const j = state % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('noise control under an alert storm, embedded', () => {
  let dir: string;
  let slack: SlackWebhookServer;
  let reflex: Launched;
  let api: ReturnType<typeof apiClient>;
  /** Every event id the webhooks accepted, by url. */
  const accepted = new Map<string, string[]>();

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'reflex-e2e-storm-'));
    slack = await startSlackWebhookServer();
    mkdirSync(join(dir, 'config'));
    writeFileSync(join(dir, 'config', 'chat.yaml'), ['default_target: slack', 'targets:', `  slack: { adapter: slack-webhook, url: "${slack.webhookUrl}" }`].join('\n'));
    const config = loadConfig(
      {},
      { port: 0, dataDir: join(dir, 'data'), configDir: join(dir, 'config'), packsPaths: [PACKS], logLevel: 'silent', webhookRateLimitPerMinute: 0, rateLimitPerMinute: 0 },
    );
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'silent' }));
    api = apiClient(reflex.url ?? '', adminKeyOf(join(dir, 'data')));
  });

  afterAll(async () => {
    await reflex?.stop();
    await slack?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Posts every notification (16 at a time); returns the ids of the events they became. */
  async function post(posts: Post[]): Promise<string[]> {
    const ids: string[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < posts.length) {
        const { url, body } = posts[next++]!;
        const res = await fetch(`${reflex.url}/v1/webhooks/${url}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const answer = (await res.json()) as { eventIds?: string[] };
        expect(res.status, JSON.stringify(answer)).toBe(202);
        ids.push(...(answer.eventIds ?? []));
        accepted.set(url, [...(accepted.get(url) ?? []), ...(answer.eventIds ?? [])]);
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    // The rules engine stores each event once it has decided about it.
    await waitFor(async () => ((await Promise.all(ids.map((id) => reflex.store.events.get(id)))).every((e) => e !== null) ? true : undefined), `${ids.length} events to be processed`, 60_000, 100);
    return ids;
  }

  let seen = 0;
  /** Waits for `count` new Slack messages, then for a quiet spell; returns their fallback texts, sorted. */
  async function messages(count: number): Promise<string[]> {
    await waitFor(async () => (slack.accepted.length >= seen + count ? true : undefined), `${count} Slack messages (have ${slack.accepted.length - seen})`, 30_000, 50);
    await new Promise((r) => setTimeout(r, 2000));
    const got = slack.accepted.slice(seen).map((m) => m.text ?? '');
    seen = slack.accepted.length;
    return got.sort();
  }

  const ruleInput = (rule: Rule) => ({
    pack: rule.pack,
    name: rule.name,
    trigger: rule.trigger,
    action: rule.action,
    ...(rule.description === undefined ? {} : { description: rule.description }),
    ...(rule.criteria === undefined ? {} : { criteria: rule.criteria }),
    ...(rule.group === undefined ? {} : { group: rule.group }),
  });

  it('pages people with exactly these messages, and can say why for every event', async () => {
    // The alerting pack's own rule, with windows short enough for a test.
    const packRule = (await api.get<Rule>(`/v1/rules/${PACK_RULE}`)).body;
    expect(packRule.group).toMatchObject({ groupBy: ['payload.alert.labels.alertname', 'payload.alert.labels.cluster'], groupWait: '30s' });
    const shortened = { ...ruleInput(packRule), group: { ...packRule.group, groupWait: '1s', groupInterval: '500ms', repeatInterval: '1h' } };
    expect((await api.put(`/v1/rules/${PACK_RULE}`, shortened)).status).toBe(200);

    // Other Alertmanager receivers, for other kinds of noise.
    const storm = (name: string, url: string, extra: object, title: string, text: string, severity: string) => ({
      pack: 'storm',
      name,
      trigger: { type: 'alerting.alertmanager', parameters: { url } },
      ...extra,
      action: { ref: 'chat.post', parameters: { title, text, severity } },
    });
    for (const rule of [
      storm(
        'flapping',
        'am-flap',
        { throttle: { mode: 'once_within', window: '1h', groupBy: ['payload.alert.labels.alertname', 'payload.alert.labels.instance'] } },
        'Flapping: {{ window.labels.alertname }} on {{ window.labels.instance }}',
        '{{ payload.alert.labels.alertname }} is {{ payload.alert.status }}; repeats muted for an hour',
        'warning',
      ),
      storm('burst', 'am-burst', { throttle: { mode: 'threshold', threshold: 50, window: '1h', groupBy: ['payload.alert.labels.alertname'] } }, 'Error burst: {{ window.labels.alertname }}', '{{ window.count }} alerts within the hour', 'error'),
      storm(
        'deploys',
        'am-deploys',
        { throttle: { mode: 'once_after', window: '2s', groupBy: ['payload.alert.labels.cluster'] } },
        'Deploys in {{ window.labels.cluster }}',
        '{{ window.count }} deploys: {{ events | map: "payload" | map: "alert" | map: "labels" | map: "service" | uniq | sort | join: ", " }}',
        'info',
      ),
    ]) {
      const res = await api.post('/v1/rules', rule);
      expect(res.status, JSON.stringify(res.body)).toBe(201);
    }

    const silence = await api.post<{ id: string }>('/v1/silences', {
      matchers: [
        { path: 'payload.alert.labels.alertname', op: '=', value: 'Noisy' },
        { path: 'payload.alert.labels.cluster', op: '=~', value: 'prod-.*' },
      ],
      duration: '1h',
      comment: 'known flaky probe, fix in progress',
    });
    expect(silence.status).toBe(201);
    const inhibition = await api.post<{ id: string }>('/v1/inhibitions', {
      name: 'cluster-down-mutes-warnings',
      source: { '==': [{ var: 'payload.alert.labels.alertname' }, 'ClusterDown'] },
      resolved: { '==': [{ var: 'payload.alert.status' }, 'resolved'] },
      target: { '==': [{ var: 'payload.alert.labels.severity' }, 'warning'] },
      equal: ['payload.alert.labels.cluster'],
      duration: '1h',
    });
    expect(inhibition.status).toBe(201);

    const am = (body: object): Post => ({ url: 'alertmanager', body });
    const highCpu = (a: Status, b: Status, c: Status) => am(notification('HighCPU', 'prod-a', 'critical', [['web-1', a], ['web-2', b], ['web-3', c]]));
    const diskFull = (a: Status, b: Status) => am(notification('DiskFull', 'prod-b', 'warning', [['db-1', a], ['db-2', b]]));
    const latencyA = am(notification('LatencyHigh', 'prod-a', 'warning', [['lb-1', 'firing'], ['lb-2', 'firing']]));
    const latencyC = am(notification('LatencyHigh', 'prod-c', 'warning', [['lb-7', 'firing'], ['lb-8', 'firing'], ['lb-9', 'firing']]));
    const noisy = am(notification('Noisy', 'prod-b', 'warning', [['probe-1', 'firing'], ['probe-2', 'firing']]));
    const clusterDown = (s: Status) => am(notification('ClusterDown', 'prod-c', 'critical', [['prod-c', s]]));
    const flap = (s: Status): Post => ({ url: 'am-flap', body: notification('Flapper', 'prod-a', 'warning', [['host-x', s]]) });
    const burst: Post = { url: 'am-burst', body: notification('ErrorBurst', 'prod-a', 'critical', [['api-1', 'firing']]) };

    // --- phase 1: the storm. The cluster outage and the flap's first alert come first. ---
    const [clusterDownEvent] = await post([clusterDown('firing')]);
    await post([flap('firing')]);
    const phase1 = shuffled([
      ...times(150, highCpu('firing', 'firing', 'firing')),
      ...times(150, diskFull('firing', 'firing')),
      ...times(50, latencyA),
      ...times(50, latencyC),
      ...times(150, noisy),
      ...times(20, clusterDown('firing')),
      ...Array.from({ length: 400 }, (_, i) => flap(i % 2 === 0 ? 'resolved' : 'firing')),
      ...times(120, burst),
    ]);
    const phase1Ids = await post(phase1);
    expect(await messages(6)).toEqual([
      '🔴 [FIRING:1] ClusterDown (prod-c): 🔥 prod-c: no node answers\n',
      '🔴 [FIRING:3] HighCPU (prod-a): 🔥 web-1: CPU above 90%\n🔥 web-2: CPU above 90%\n🔥 web-3: CPU above 90%\n',
      '🟠 Error burst: ErrorBurst: 50 alerts within the hour',
      '🟡 Flapping: Flapper on host-x: Flapper is firing; repeats muted for an hour',
      '🟡 [FIRING:2] DiskFull (prod-b): 🔥 db-1: disk above 95%\n🔥 db-2: disk above 95%\n',
      '🟡 [FIRING:2] LatencyHigh (prod-a): 🔥 lb-1: p99 above 2s\n🔥 lb-2: p99 above 2s\n',
    ].sort());

    // --- phase 2: one alert of each group resolves; the cluster is back (its inhibition ends). ---
    await post(
      shuffled([
        ...times(30, highCpu('firing', 'firing', 'resolved')),
        ...times(30, diskFull('firing', 'resolved')),
        ...times(10, clusterDown('resolved')),
        ...times(30, latencyA),
        ...times(50, noisy),
        ...Array.from({ length: 100 }, (_, i) => flap(i % 2 === 0 ? 'firing' : 'resolved')),
        ...times(60, burst),
      ]),
    );
    expect(await messages(3)).toEqual([
      '✅ [RESOLVED] ClusterDown (prod-c): ✅ prod-c: no node answers\n',
      '🔴 [FIRING:2] HighCPU (prod-a): 🔥 web-1: CPU above 90%\n🔥 web-2: CPU above 90%\n✅ web-3: CPU above 90%\n',
      '🟡 [FIRING:1] DiskFull (prod-b): 🔥 db-1: disk above 95%\n✅ db-2: disk above 95%\n',
    ].sort());

    // --- phase 3: the silence is lifted; prod-c's warnings are no longer inhibited; deploys are digested. ---
    expect((await api.delete(`/v1/silences/${silence.body.id}`)).status).toBe(204);
    await new Promise((r) => setTimeout(r, 300));
    const deploys: Post = {
      url: 'am-deploys',
      body: notification(
        'Deploy',
        'prod-a',
        'info',
        Array.from({ length: 40 }, (_, i) => [`deploy-${i}`, 'firing', { service: ['web', 'api', 'auth', 'billing', 'search'][i % 5]! }] as [string, Status, Record<string, string>]),
      ),
    };
    await post(
      shuffled([
        ...times(30, highCpu('firing', 'resolved', 'resolved')),
        ...times(30, diskFull('resolved', 'resolved')),
        ...times(50, latencyC),
        ...times(50, noisy),
        deploys,
      ]),
    );
    expect(await messages(5)).toEqual([
      '✅ [RESOLVED] DiskFull (prod-b): ✅ db-1: disk above 95%\n',
      '🔴 [FIRING:1] HighCPU (prod-a): 🔥 web-1: CPU above 90%\n✅ web-2: CPU above 90%\n',
      '🔵 Deploys in prod-a: 40 deploys: api, auth, billing, search, web',
      '🟡 [FIRING:2] Noisy (prod-b): 🔥 probe-1: flaky probe\n🔥 probe-2: flaky probe\n',
      '🟡 [FIRING:3] LatencyHigh (prod-c): 🔥 lb-7: p99 above 2s\n🔥 lb-8: p99 above 2s\n🔥 lb-9: p99 above 2s\n',
    ].sort());

    // --- phase 4: the last CPU alert resolves (the group closes); the same alert name fires in another cluster. ---
    await post(
      shuffled([
        ...times(30, highCpu('resolved', 'resolved', 'resolved')),
        ...times(20, am(notification('HighCPU', 'prod-b', 'critical', [['web-9', 'firing']]))),
        ...times(20, latencyA),
      ]),
    );
    expect(await messages(2)).toEqual([
      '✅ [RESOLVED] HighCPU (prod-a): ✅ web-1: CPU above 90%\n',
      '🔴 [FIRING:1] HighCPU (prod-b): 🔥 web-9: CPU above 90%\n',
    ].sort());
    expect(slack.accepted).toHaveLength(16);

    // --- every event has its decisions, and they add up ---
    const all = [...accepted.values()].flat();
    expect(all.length).toBeGreaterThan(2800);
    const tally = new Map<string, number>();
    for (const id of all) {
      for (const d of await reflex.store.decisions.listByEvent(id)) {
        const key = `${d.rule} ${d.outcome}`;
        tally.set(key, (tally.get(key) ?? 0) + 1);
      }
    }
    const count = (rule: string, outcome: DecisionOutcome): number => tally.get(`${rule} ${outcome}`) ?? 0;
    expect([count('storm.flapping', 'fired'), count('storm.flapping', 'throttled')]).toEqual([1, 500]);
    expect([count('storm.burst', 'fired'), count('storm.burst', 'throttled')]).toEqual([1, 179]);
    expect([count('storm.deploys', 'grouped'), count('storm.deploys', 'fired')]).toEqual([40, 1]);
    expect(count(PACK_RULE, 'silenced')).toBe(2 * (150 + 50));
    expect(count(PACK_RULE, 'inhibited')).toBe(3 * 50);
    expect(count(PACK_RULE, 'fired')).toBe(13);
    const packEvents = (accepted.get('alertmanager') ?? []).length;
    expect(count(PACK_RULE, 'grouped')).toBe(packEvents - 400 - 150);
    expect([...tally.keys()].filter((k) => /failed|not_matched/.test(k))).toEqual([]);

    // "Why was I (not) paged?", from the API, for one event of each kind.
    const explain = async (id: string) =>
      (await api.get<{ items: Array<Decision & { windowFirings?: Array<{ seq: number; executionId: string }> }> }>(`/v1/events/${id}/decisions`)).body.items;
    const firstOf = async (alertname: string, cluster: string): Promise<string> => {
      for (const id of phase1Ids) {
        const labels = ((await reflex.store.events.get(id))?.payload as { alert: { labels: Record<string, string> } }).alert.labels;
        if (labels['alertname'] === alertname && labels['cluster'] === cluster) return id;
      }
      throw new Error(`no ${alertname} event in ${cluster}`);
    };
    expect(await explain(await firstOf('Noisy', 'prod-b'))).toMatchObject([
      { rule: PACK_RULE, outcome: 'silenced', silenceId: silence.body.id, reason: expect.stringContaining('known flaky probe') },
    ]);
    expect(await explain(await firstOf('LatencyHigh', 'prod-c'))).toMatchObject([
      { rule: PACK_RULE, outcome: 'inhibited', inhibition: { id: inhibition.body.id, sourceEventId: clusterDownEvent } },
    ]);
    const [grouped] = await explain(await firstOf('HighCPU', 'prod-a'));
    expect(grouped).toMatchObject({ rule: PACK_RULE, outcome: 'grouped', window: { mode: 'group', key: 'alertname="HighCPU",cluster="prod-a"' } });
    expect(grouped?.windowFirings?.map((f) => f.seq)).toEqual([1, 2, 3, 4]);
    expect(grouped?.windowFirings?.every((f) => f.executionId.startsWith('exe-'))).toBe(true);
  }, 120_000);
});
