/**
 * Benchmark 2 — rule matching, in process (pure CPU, no I/O): Reflex's RuleSet (trigger and
 * equality index, compiled criteria) against 10, 1k and 10k realistic alerting rules, and in the
 * same run the baselines: json-rules-engine with the equivalent rules (what a Node user would
 * pick), a naive loop of json-logic-js over every rule, and Reflex's index with json-logic-js
 * evaluating the candidates (the evaluator before this benchmark existed).
 *
 * The baselines are time-boxed (they are slow at 10k rules) and run over a prefix of the same
 * events; each one's matches are checked against Reflex's, so a ratio never compares unequal work.
 */
import { Engine, type NestedCondition, type TopLevelCondition } from 'json-rules-engine';
import jsonLogicJs from 'json-logic-js';
import { eventContext, type ReflexEvent } from '@reflex/model';
import { RuleSet } from '@reflex/rules';
import { alertEvents, alertRules, type AlertCorpusRule, type FlatCondition } from '../../packages/rules/test/alert-corpus.ts';
import { main, printTable, printTargets, QUICK, writeResult, type Target } from './lib/report.ts';
import { median, ratio, round } from './lib/stats.ts';

const RULE_COUNTS = [10, 1_000, 10_000];
const EVENT_COUNT = QUICK ? 5_000 : 100_000;
const REPETITIONS = QUICK ? 1 : 3;
/** Time box of each baseline per rule count. */
const BASELINE_BUDGET_MS = QUICK ? 500 : 3_000;

function toEvents(count: number, ruleCount: number): ReflexEvent[] {
  return alertEvents(count, ruleCount).map((e, i) => ({
    id: `evt-${i}`,
    type: 'core.webhook',
    triggerParameters: { url: e.url },
    source: 'webhook',
    payload: { body: { ...e.body }, headers: { 'content-type': 'application/json' }, query: {} },
    occurredAt: '2024-05-01T12:00:00.000Z',
    traceId: `trace-${i}`,
  }));
}

function toJre(condition: FlatCondition): NestedCondition {
  if ('all' in condition) return { all: condition.all.map(toJre) };
  if ('any' in condition) return { any: condition.any.map(toJre) };
  return { fact: condition.fact, operator: condition.operator, value: condition.value };
}

interface Timed {
  events: number;
  ms: number;
  matches: Map<number, string[]>;
}

/** Runs `one` over events until all are done or the budget is spent. */
async function timeBoxed(events: ReflexEvent[], budgetMs: number, one: (event: ReflexEvent) => string[] | Promise<string[]>): Promise<Timed> {
  const matches = new Map<number, string[]>();
  const start = performance.now();
  let i = 0;
  for (; i < events.length; i += 1) {
    matches.set(i, (await one(events[i]!)).sort());
    if ((i & 15) === 15 && performance.now() - start > budgetMs) {
      i += 1;
      break;
    }
  }
  return { events: i, ms: performance.now() - start, matches };
}

function agreeOn(name: string, timed: Timed, reflex: (i: number) => string[]): void {
  for (const [i, refs] of timed.matches) {
    const want = reflex(i);
    if (want.join() !== refs.join()) {
      throw new Error(`${name} disagrees with Reflex on event ${i}: ${JSON.stringify(refs)} vs ${JSON.stringify(want)}`);
    }
  }
}

interface SizeFigures {
  rules: number;
  events: number;
  buildMs: number;
  candidatesPerEvent: number;
  matchesPerEvent: number;
  reflex: { eventsPerSec: number; nsPerEvent: number; nsPerCandidate: number; runsEventsPerSec: number[] };
  indexPlusJsonLogicJs: { events: number; eventsPerSec: number };
  naiveJsonLogicJs: { events: number; eventsPerSec: number };
  jsonRulesEngine: { events: number; eventsPerSec: number };
}

async function measure(ruleCount: number): Promise<SizeFigures> {
  const corpus: AlertCorpusRule[] = alertRules(ruleCount);
  const events = toEvents(EVENT_COUNT, ruleCount);

  const buildStart = performance.now();
  const set = new RuleSet();
  for (const { rule } of corpus) set.upsert(rule);
  const buildMs = performance.now() - buildStart;

  // Correctness pass (also the warm-up): what Reflex matches, and how many candidates it met.
  let candidates = 0;
  let matchCount = 0;
  const reflexMatches: string[][] = [];
  for (const event of events) {
    const results = set.match(event);
    candidates += results.length;
    const refs = results.filter((r) => r.matched).map((r) => r.rule.ref);
    matchCount += refs.length;
    reflexMatches.push(refs.sort());
  }

  const runs: number[] = [];
  let sink = 0;
  for (let rep = 0; rep < REPETITIONS; rep += 1) {
    const start = performance.now();
    for (const event of events) sink += set.match(event).length;
    runs.push((events.length / (performance.now() - start)) * 1000);
  }
  if (sink !== candidates * REPETITIONS) throw new Error('candidate counts changed between runs');
  const eventsPerSec = median(runs)!;

  // Baseline A: Reflex's index, candidates evaluated by json-logic-js (the evaluator before).
  const indexed = await timeBoxed(events, BASELINE_BUDGET_MS, (event) => {
    const ctx = eventContext(event);
    return set
      .candidates(event)
      .filter((rule) => jsonLogicJs.truthy(jsonLogicJs.apply(rule.rule.criteria as never, ctx)))
      .map((rule) => rule.ref);
  });
  agreeOn('index + json-logic-js', indexed, (i) => reflexMatches[i]!);

  // Baseline B: a naive loop of json-logic-js over every rule.
  const rules = corpus.map((c) => c.rule);
  const naive = await timeBoxed(events, BASELINE_BUDGET_MS, (event) => {
    const ctx = eventContext(event);
    const url = event.triggerParameters?.['url'];
    const out: string[] = [];
    for (const rule of rules) {
      if (rule.trigger.type !== event.type || rule.trigger.parameters?.['url'] !== url) continue;
      if (jsonLogicJs.truthy(jsonLogicJs.apply(rule.criteria as never, ctx))) out.push(rule.ref);
    }
    return out;
  });
  agreeOn('naive json-logic-js', naive, (i) => reflexMatches[i]!);

  // Baseline C: json-rules-engine, the equivalent rules over flat facts (its fastest form).
  const engine = new Engine([], { allowUndefinedFacts: true });
  for (const c of corpus) engine.addRule({ name: c.rule.ref, conditions: toJre(c.flat) as TopLevelCondition, event: { type: c.rule.ref } });
  const jre = await timeBoxed(events, BASELINE_BUDGET_MS, async (event) => {
    const body = (event.payload as { body: Record<string, unknown> }).body;
    const result = await engine.run({ url: event.triggerParameters?.['url'], ...body });
    return result.events.map((e) => e.type);
  });
  agreeOn('json-rules-engine', jre, (i) => reflexMatches[i]!);

  const perSec = (t: Timed) => round((t.events / t.ms) * 1000, 0)!;
  return {
    rules: ruleCount,
    events: events.length,
    buildMs: round(buildMs, 1)!,
    candidatesPerEvent: round(candidates / events.length, 2)!,
    matchesPerEvent: round(matchCount / events.length, 3)!,
    reflex: {
      eventsPerSec: round(eventsPerSec, 0)!,
      nsPerEvent: round(1e9 / eventsPerSec, 0)!,
      nsPerCandidate: round(candidates === 0 ? 0 : 1e9 / eventsPerSec / (candidates / events.length), 0)!,
      runsEventsPerSec: runs.map((r) => round(r, 0)!),
    },
    indexPlusJsonLogicJs: { events: indexed.events, eventsPerSec: perSec(indexed) },
    naiveJsonLogicJs: { events: naive.events, eventsPerSec: perSec(naive) },
    jsonRulesEngine: { events: jre.events, eventsPerSec: perSec(jre) },
  };
}

main(async () => {
  const startedAt = new Date().toISOString();
  const sizes: SizeFigures[] = [];
  for (const count of RULE_COUNTS) {
    process.stdout.write(`matching: ${count} rules × ${EVENT_COUNT} events…\n`);
    sizes.push(await measure(count));
  }
  printTable(
    `rule matching (${EVENT_COUNT.toLocaleString('en-US')} events; medians of ${REPETITIONS} runs; baselines time-boxed to ${BASELINE_BUDGET_MS} ms)`,
    ['rules', 'cand/event', 'match/event', 'reflex ev/s', 'ns/cand', 'index+jlj ev/s', 'naive jlj ev/s', 'jre ev/s', '× jre', '× naive', '× index+jlj'],
    sizes.map((s) => [
      s.rules,
      s.candidatesPerEvent,
      s.matchesPerEvent,
      s.reflex.eventsPerSec,
      s.reflex.nsPerCandidate,
      s.indexPlusJsonLogicJs.eventsPerSec,
      s.naiveJsonLogicJs.eventsPerSec,
      s.jsonRulesEngine.eventsPerSec,
      ratio(s.reflex.eventsPerSec, s.jsonRulesEngine.eventsPerSec, 0),
      ratio(s.reflex.eventsPerSec, s.naiveJsonLogicJs.eventsPerSec, 0),
      ratio(s.reflex.eventsPerSec, s.indexPlusJsonLogicJs.eventsPerSec, 1),
    ]),
  );
  const first = sizes[0]!;
  const last = sizes.at(-1)!;
  const growth = {
    rules: round(last.rules / first.rules, 0),
    costPerEvent: ratio(last.reflex.nsPerEvent, first.reflex.nsPerEvent, 1),
    candidatesPerEvent: ratio(last.candidatesPerEvent, first.candidatesPerEvent, 1),
  };
  process.stdout.write(
    `\ngrowth from ${first.rules} to ${last.rules} rules (×${growth.rules}): cost per event ×${growth.costPerEvent}, candidates per event ×${growth.candidatesPerEvent}\n`,
  );
  const at10k = sizes.find((s) => s.rules === 10_000);
  const targets: Target[] = [
    { what: 'events/s against 10k rules', target: '≥ 100,000', value: at10k?.reflex.eventsPerSec, met: at10k === undefined ? undefined : at10k.reflex.eventsPerSec >= 100_000 },
    {
      what: '× json-rules-engine at 10k rules',
      target: '≥ 10×',
      value: ratio(at10k?.reflex.eventsPerSec, at10k?.jsonRulesEngine.eventsPerSec, 0),
      met: at10k === undefined ? undefined : at10k.reflex.eventsPerSec >= 10 * at10k.jsonRulesEngine.eventsPerSec,
    },
  ];
  printTargets(targets);
  writeResult({
    benchmark: 'matching',
    startedAt,
    parameters: { ruleCounts: RULE_COUNTS, events: EVENT_COUNT, repetitions: REPETITIONS, baselineBudgetMs: BASELINE_BUDGET_MS, corpus: 'packages/rules/test/alert-corpus.ts (seeds 1, 2)' },
    figures: { sizes, growth },
    ratios: Object.fromEntries(sizes.flatMap((s) => [
      [`reflex/jsonRulesEngine@${s.rules}`, ratio(s.reflex.eventsPerSec, s.jsonRulesEngine.eventsPerSec, 1)],
      [`reflex/naiveJsonLogicJs@${s.rules}`, ratio(s.reflex.eventsPerSec, s.naiveJsonLogicJs.eventsPerSec, 1)],
      [`reflex/indexPlusJsonLogicJs@${s.rules}`, ratio(s.reflex.eventsPerSec, s.indexPlusJsonLogicJs.eventsPerSec, 2)],
    ])),
    targets,
  });
});
