/** Records and helpers for the Store conformance suite. */
import {
  enforcementIdFor,
  executionIdFor,
  type Action,
  type Enforcement,
  type Execution,
  type Pack,
  type ReflexEvent,
  type Rule,
  type TriggerType,
} from '@reflex/model';
import type { FiringRecord, OutputChunk, Page, PageOptions } from '../src/index.ts';

export const MINUTE = 60_000;
export const HOUR = 60 * MINUTE;
/** An hour ago: well inside any retention, so no backend expires these records mid-test. */
export const T0 = Date.now() - HOUR;
/** `offsetMs` after T0, as an ISO time. */
export const at = (offsetMs: number): string => new Date(T0 + offsetMs).toISOString();

export function makeEvent(id: string, overrides: Partial<ReflexEvent> = {}): ReflexEvent {
  return {
    id,
    type: 'core.webhook',
    source: 'webhook',
    payload: { n: id },
    occurredAt: at(0),
    traceId: `trace-${id}`,
    ...overrides,
  };
}

/** An execution as `newExecution` makes it (history seeded at its creation), with overrides. */
export function makeExecution(id: string, overrides: Partial<Execution> = {}): Execution {
  const createdAt = overrides.createdAt ?? at(0);
  return {
    id,
    action: 'core.echo',
    runner: 'node',
    parameters: { message: 'hi' },
    status: 'requested',
    traceId: `trace-${id}`,
    attempt: 1,
    history: [{ status: 'requested', at: createdAt, attempt: 0 }],
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

export function makeEnforcement(eventId: string, rule: string, overrides: Partial<Enforcement> = {}): Enforcement {
  const id = enforcementIdFor(eventId, rule);
  return {
    id,
    eventId,
    rule,
    status: 'fired',
    executionId: executionIdFor(id),
    traceId: `trace-${eventId}`,
    createdAt: at(0),
    ...overrides,
  };
}

export function makeRule(pack: string, name: string, overrides: Partial<Rule> = {}): Rule {
  return {
    ref: `${pack}.${name}`,
    pack,
    name,
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url: name } },
    action: { ref: 'core.echo', parameters: { message: '{{ payload.text }}' } },
    source: 'api',
    createdAt: at(0),
    updatedAt: at(0),
    ...overrides,
  };
}

export function makePack(name: string, overrides: Partial<Pack> = {}): Pack {
  return { name, version: '1.0.0', path: `/packs/${name}`, registeredAt: at(0), ...overrides };
}

export function makeAction(pack: string, name: string, overrides: Partial<Action> = {}): Action {
  return {
    ref: `${pack}.${name}`,
    pack,
    name,
    enabled: true,
    runner: 'node',
    parametersSchema: { type: 'object' },
    ...overrides,
  };
}

export function makeTriggerType(pack: string, name: string, overrides: Partial<TriggerType> = {}): TriggerType {
  return { ref: `${pack}.${name}`, pack, name, ...overrides };
}

/** A firing: one event, one enforcement per rule, one execution per enforcement. */
export function makeFiring(eventId: string, rules: string[], createdAt = at(0)): FiringRecord {
  const event = makeEvent(eventId, { occurredAt: createdAt });
  const enforcements = rules.map((rule) => makeEnforcement(eventId, rule, { createdAt }));
  const executions = enforcements.map((enf) =>
    makeExecution(enf.executionId ?? '', {
      rule: enf.rule,
      eventId,
      enforcementId: enf.id,
      createdAt,
      updatedAt: createdAt,
    }),
  );
  return { event, enforcements, executions };
}

/** Walks every page of a list; fails on a runaway cursor. */
export async function collectPages<T>(
  list: (page: PageOptions) => Promise<Page<T>>,
  limit: number,
): Promise<{ items: T[]; sizes: number[] }> {
  const items: T[] = [];
  const sizes: number[] = [];
  let cursor: string | undefined;
  for (let guard = 0; guard < 1000; guard++) {
    const page = await list(cursor === undefined ? { limit } : { limit, cursor });
    items.push(...page.items);
    sizes.push(page.items.length);
    if (page.nextCursor === undefined) return { items, sizes };
    cursor = page.nextCursor;
  }
  throw new Error('paging did not end');
}

/** Newest first: createdAt desc, then id desc (ISO times of one format sort as strings). */
export function newestFirst<T extends { id: string }>(items: T[], timeOf: (item: T) => string): T[] {
  return [...items].sort((a, b) => {
    const byTime = Date.parse(timeOf(b)) - Date.parse(timeOf(a));
    if (byTime !== 0) return byTime;
    return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
  });
}

export async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

/** Output chunk `seq`, produced `seq` × 10 ms after T0. */
export function outputChunk(seq: number, overrides: Partial<OutputChunk> = {}): OutputChunk {
  return { seq, stream: 'stdout', text: `line ${seq}`, at: at(seq * 10), ...overrides };
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
