/**
 * The alerting pack: it loads, its payload schemas take Alertmanager's and Grafana's real webhook
 * bodies (split into one event per alert), and its rule renders a group into the chat message
 * operators will read.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateUser, webhookPayloads, type JsonObject, type JsonValue, type ReflexEvent, type Rule } from '@reflex/model';
import { loadPack } from '@reflex/packs';
import { compileRule, type CompiledGroup } from '@reflex/rules';

const sample = (name: string): JsonValue => JSON.parse(readFileSync(path.join(import.meta.dirname, 'examples', name), 'utf8')) as JsonValue;

describe('the alerting pack', () => {
  it('loads with zero errors: two webhook trigger types and two grouping rules', async () => {
    const pack = await loadPack(import.meta.dirname);
    expect(pack.errors).toEqual([]);
    expect(pack.triggerTypes.map((t) => [t.ref, t.webhook])).toEqual([
      ['alerting.alertmanager', { split: 'alerts', item: 'alert' }],
      ['alerting.grafana', { split: 'alerts', item: 'alert' }],
    ]);
    expect(pack.rules.map((r) => [r.name, r.trigger, r.group?.groupBy])).toEqual([
      ['alertmanager_to_chat', { type: 'alerting.alertmanager', parameters: { url: 'alertmanager' } }, ['payload.alert.labels.alertname', 'payload.alert.labels.cluster']],
      ['grafana_to_chat', { type: 'alerting.grafana', parameters: { url: 'grafana' } }, ['payload.alert.labels.alertname', 'payload.alert.labels.cluster']],
    ]);
  });

  it('splits real Alertmanager and Grafana bodies into one valid event per alert, and refuses a bad one', async () => {
    const pack = await loadPack(import.meta.dirname);
    for (const [ref, file, count] of [
      ['alerting.alertmanager', 'alertmanager.json', 2],
      ['alerting.grafana', 'grafana.json', 1],
    ] as const) {
      const triggerType = pack.triggerTypes.find((t) => t.ref === ref)!;
      const payloads = webhookPayloads(triggerType, sample(file));
      expect(payloads).toHaveLength(count);
      for (const payload of payloads) {
        expect(() => validateUser(triggerType.payloadSchema ?? {}, payload, 'body', ref)).not.toThrow();
        expect(payload).not.toHaveProperty('alerts');
        expect(payload).toHaveProperty('alert.labels.alertname');
      }
      const bad = { ...(payloads[0] as JsonObject), alert: { status: 'burning', labels: {} } };
      expect(() => validateUser(triggerType.payloadSchema ?? {}, bad, 'body', ref)).toThrow(/alert\.status/);
    }
    const am = pack.triggerTypes.find((t) => t.ref === 'alerting.alertmanager')!;
    expect(() => webhookPayloads(am, { version: '4' })).toThrow(/alerts/);
  });

  it('renders a group as the chat message: title with counts, one line per alert, severity, thread key', async () => {
    const pack = await loadPack(import.meta.dirname);
    const input = pack.rules.find((r) => r.name === 'alertmanager_to_chat')!;
    const rule: Rule = { ...input, ref: 'alerting.alertmanager_to_chat', enabled: true, source: 'pack', createdAt: 'x', updatedAt: 'x' };
    const compiled = compileRule(rule);
    expect((compiled.noise as CompiledGroup).groupWaitMs).toBe(30_000);
    const payloads = webhookPayloads(pack.triggerTypes.find((t) => t.ref === 'alerting.alertmanager')!, sample('alertmanager.json')) as JsonObject[];
    const alertView = (payload: JsonObject) => {
      const alert = payload['alert'] as JsonObject;
      return { key: alert['fingerprint'] as string, status: alert['status'] as string, payload, labels: {}, count: 1 };
    };
    const event: ReflexEvent = { id: 'e', type: 'alerting.alertmanager', source: 'webhook', payload: payloads[1]!, occurredAt: '2024-05-01T12:00:00Z', traceId: 't' };
    const group = (status: string, alerts: JsonObject[]) => ({
      key: 'alertname="HighCPU",cluster="prod-a"',
      labels: { alertname: 'HighCPU', cluster: 'prod-a' },
      status,
      firing: alerts.filter((a) => a['status'] === 'firing').length,
      resolved: alerts.filter((a) => a['status'] === 'resolved').length,
      count: alerts.length,
      alerts,
    });
    const ctx = { payload: event.payload, event: { id: 'e', type: event.type, source: 'webhook', occurredAt: event.occurredAt, traceId: 't' } };
    expect(compiled.renderParameters({ ...ctx, group: group('firing', payloads.map(alertView)) } as typeof ctx)).toEqual({
      title: '[FIRING:1] HighCPU (prod-a)',
      text: '🔥 web-1:9100: CPU above 90% for 10 minutes\n✅ web-2:9100: CPU above 90% for 10 minutes\n',
      severity: 'critical',
      facts: [
        { key: 'firing', value: 1 },
        { key: 'resolved', value: 1 },
      ],
      thread_key: 'alerting:alertname="HighCPU",cluster="prod-a"',
    });
    const resolved = compiled.renderParameters({ ...ctx, group: group('resolved', [alertView(payloads[1]!)]) } as typeof ctx);
    expect([resolved['title'], resolved['severity']]).toEqual(['[RESOLVED] HighCPU (prod-a)', 'ok']);
  });
});
