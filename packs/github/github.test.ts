/**
 * The github pack: it loads, its payload schema takes GitHub's real deliveries (and the ping), and
 * every case in tests/ holds when its events are replayed through the pack's rule the way the rules
 * engine decides (criteria, throttle on the case's clock, parameters rendered and checked against
 * chat.post) — with @reflex/rules' backtest, so this needs no server. `reflex pack test` runs the
 * same cases against a real Reflex.
 */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { kvScopeOfPack, validateUser, webhookPayloads, type Action, type BacktestEntry, type JsonObject, type KvContext, type ReflexEvent, type Rule } from '@reflex/model';
import { loadPack, loadPackTests } from '@reflex/packs';
import { backtestRule } from '@reflex/rules';

const PACK_DIR = import.meta.dirname;
const T0 = Date.parse('2024-05-01T12:05:00.000Z');

async function pack() {
  const loaded = await loadPack(PACK_DIR);
  expect(loaded.errors).toEqual([]);
  return loaded;
}

async function chatPost(): Promise<Action> {
  const chat = await loadPack(path.join(PACK_DIR, '..', 'chat'));
  return chat.actions.find((a) => a.ref === 'chat.post')!;
}

describe('the github pack', () => {
  it('loads with zero errors: one webhook trigger type and one throttled rule on url github', async () => {
    const loaded = await pack();
    expect(loaded.triggerTypes.map((t) => [t.ref, t.webhook])).toEqual([['github.workflow_run', {}]]);
    expect(loaded.rules.map((r) => [r.name, r.trigger, r.action.ref, r.throttle])).toEqual([
      [
        'failed_workflow_to_chat',
        { type: 'github.workflow_run', parameters: { url: 'github' } },
        'chat.post',
        { mode: 'once_within', window: '30m', groupBy: ['payload.repository.full_name', 'payload.workflow_run.name'] },
      ],
    ]);
  });

  it('takes real deliveries (workflow_run, ping) as one event each, and refuses a malformed run', async () => {
    const loaded = await pack();
    const tests = await loadPackTests(PACK_DIR, 'github');
    const triggerType = loaded.triggerTypes[0]!;
    const bodies = tests.cases.flatMap((c) => c.steps.flatMap((s) => (s.kind === 'event' ? [s.payload] : [])));
    expect(bodies.length).toBeGreaterThanOrEqual(8);
    for (const body of bodies) {
      const payloads = webhookPayloads(triggerType, body);
      expect(payloads).toEqual([body]);
      expect(() => validateUser(triggerType.payloadSchema ?? {}, body, 'body', 'github.workflow_run')).not.toThrow();
    }
    const bad = { action: 'completed', workflow_run: { id: 'nope', name: 'CI', status: 'completed', html_url: 'x' }, repository: { full_name: 'a/b' } };
    expect(() => validateUser(triggerType.payloadSchema ?? {}, bad, 'body', 'github.workflow_run')).toThrow(/workflow_run\.id/);
  });

  it('every case in tests/ parses and holds', async () => {
    const loaded = await pack();
    const action = await chatPost();
    const tests = await loadPackTests(PACK_DIR, 'github');
    expect(tests.errors).toEqual([]);
    expect(tests.cases.map((c) => c.name).sort()).toEqual([
      'chat_target_from_the_datastore',
      'failed_run_on_a_branch_is_quiet',
      'failed_run_on_main_posts',
      'flapping_workflow_posts_once_per_window',
      'ping_is_quiet',
      'run_in_progress_is_quiet',
      'successful_run_is_quiet',
      'timed_out_run_posts',
    ]);
    const rules: Rule[] = loaded.rules.map((r) => ({ ...r, ref: `github.${r.name}`, enabled: true, source: 'pack', createdAt: 'x', updatedAt: 'x' }));

    for (const testCase of tests.cases) {
      let clock = testCase.now === undefined ? T0 : Date.parse(testCase.now);
      const events: ReflexEvent[] = [];
      for (const step of testCase.steps) {
        if (step.kind === 'advance') clock += step.ms;
        else {
          const id = `evt-${String(events.length + 1).padStart(3, '0')}`;
          events.push({ id, type: step.trigger, source: 'webhook', payload: step.payload, occurredAt: new Date(clock).toISOString(), traceId: id, ...(step.parameters === undefined ? {} : { triggerParameters: step.parameters }) });
        }
      }
      const kv: KvContext = { system: {}, pack: {} };
      for (const preset of testCase.kv) {
        if (preset.scope === 'system') kv.system[preset.name] = preset.value;
        else if (preset.scope === kvScopeOfPack('github')) kv.pack[preset.name] = preset.value;
      }
      const entries: Array<BacktestEntry & { rule: string }> = [];
      for (const rule of rules) {
        const report = backtestRule({ rule, events, action, kv, since: new Date(T0 - 1000).toISOString(), until: new Date(clock).toISOString(), maxEntries: 1000 });
        entries.push(...report.entries.map((e) => ({ ...e, rule: rule.ref })));
      }
      entries.sort((a, b) => a.at.localeCompare(b.at));
      const what = `${testCase.name}: ${JSON.stringify(entries.map((e) => [e.rule, e.outcome, e.reason]))}`;
      expect(entries.filter((e) => e.outcome === 'failed'), what).toEqual([]);
      const fired = entries.filter((e) => e.outcome === 'fired');
      const { fire, actions, chat, decisions } = testCase.expect;
      if (fire !== undefined) expect(fired.filter((e) => e.kind === 'event').map((e) => e.rule).sort(), what).toEqual([...fire].sort());
      if (actions !== undefined) {
        expect(fired.length, what).toBe(actions.length);
        actions.forEach((a, i) => {
          expect(fired[i]?.action, what).toBe(a.action);
          if (a.parameters !== undefined) expect(fired[i]?.parameters, what).toMatchObject(a.parameters);
        });
      }
      if (chat !== undefined) {
        const messages = fired.filter((e) => e.action === 'chat.post' || e.action === 'chat.update').map((e) => e.parameters as JsonObject);
        expect(messages.length, what).toBe(chat.length);
        chat.forEach((c, i) => {
          const m = messages[i]!;
          if (c.target !== undefined) expect(m['target'] ?? null, what).toBe(c.target);
          if (c.text !== undefined) expect(m['text'], what).toBe(c.text);
          if (c.textContains !== undefined) expect(m['text'], what).toContain(c.textContains);
          if (c.title !== undefined) expect(m['title'], what).toBe(c.title);
          if (c.severity !== undefined) expect(m['severity'], what).toBe(c.severity);
        });
      }
      if (decisions !== undefined) {
        const named = new Set(decisions.map((d) => d.rule));
        const got = entries.filter((e) => e.kind === 'event' && named.has(e.rule) && e.outcome !== 'no_match');
        expect(got.map((e) => [e.rule, e.outcome]), what).toEqual(decisions.map((d) => [d.rule, d.outcome]));
        decisions.forEach((d, i) => {
          if (d.reasonContains !== undefined) expect(got[i]?.reason, what).toContain(d.reasonContains);
        });
      }
    }
  });
});
