/**
 * Noise control on the event path: what each matching rule does about an event before any
 * execution is requested. In order, for every rule whose criteria matched:
 *
 *   silenced?  → a silence whose matchers all hold (in-memory)
 *   inhibited? → an inhibition whose target is the event, with an active source of equal values (store)
 *   throttle   → once_within / threshold may fire now; once_after collects (state in the store)
 *   group      → joins its alert group, which fires later (state in the store)
 *   otherwise  → fires now
 *
 * Resolutions of an alert group (the rule's `group.resolved`) skip silences and inhibitions: a
 * muted alert must still be able to close. Before any rule, the event may start or end the
 * sources of inhibitions (for every event, matched by a rule or not). Every state change is one
 * atomic update in the store, shared by all replicas.
 */
import {
  decisionIdFor,
  eventContext,
  type Decision,
  type DecisionWindow,
  type Enforcement,
  type EventContext,
  type ReflexEvent,
} from '@reflex/model';
import {
  activeSource,
  foldGroup,
  foldInhibitionSource,
  foldOnceAfter,
  foldOnceWithin,
  foldThreshold,
  identityOf,
  inhibitionRole,
  isResolution,
  noiseKey,
  silenceFor,
  type CompiledRule,
  type InhibitionRole,
  type MatchResult,
  type NoiseOutcome,
  type NoiseTemplateContext,
} from '@reflex/rules';
import type { Store } from '@reflex/store';
import type { NoiseConfig } from './noise-config.ts';

/** A rule that fires now, with what noise control adds to its template context and decision. */
export interface ToFire {
  compiled: CompiledRule;
  reason: string;
  extra?: NoiseTemplateContext;
  window?: DecisionWindow;
}

export interface Decided {
  toFire: ToFire[];
  /** Decisions of the rules that do not fire now (fired ones are made from their enforcements). */
  decisions: Decision[];
  /** When windows or groups this event touched are next due (for the scheduler). */
  wakeAt: number[];
}

/** An inhibition's view of the event. */
interface Role {
  id: string;
  role: InhibitionRole;
}

type Muting = { kind: 'inhibited'; inhibitionId: string; sourceEventId: string; seenAt: string } | undefined;

export class Decider {
  readonly #store: Store;
  readonly #config: NoiseConfig;

  constructor(store: Store, config: NoiseConfig) {
    this.#store = store;
    this.#config = config;
  }

  async decide(event: ReflexEvent, results: readonly MatchResult[], nowMs: number): Promise<Decided> {
    const ctx = eventContext(event);
    const now = new Date(nowMs);
    const at = now.toISOString();
    const decided: Decided = { toFire: [], decisions: [], wakeAt: [] };
    const decision = (rule: string, fields: Omit<Decision, 'id' | 'eventId' | 'rule' | 'at' | 'traceId'>): void => {
      decided.decisions.push({ id: decisionIdFor(event.id, rule), eventId: event.id, rule, at, traceId: event.traceId, ...fields });
    };

    const roles = await this.#inhibitionSources(event, ctx, now);
    let inhibition: Promise<Muting> | undefined;

    for (const result of results) {
      const compiled = result.rule;
      const ref = compiled.ref;
      if (!result.matched) {
        if (result.error !== undefined) decision(ref, { outcome: 'not_matched', reason: 'the criteria could not be evaluated', error: result.error });
        continue;
      }
      const noise = compiled.noise;
      const resolution = noise?.kind === 'group' && isResolution(noise, ctx);
      if (!resolution) {
        const silence = silenceFor(this.#config.silences, { ...ctx, rule: { ref, pack: compiled.rule.pack, name: compiled.rule.name } }, nowMs);
        if (silence !== undefined) {
          decision(ref, { outcome: 'silenced', reason: `silenced by ${silence.id} (until ${silence.endsAt}, by ${silence.createdBy}: ${silence.comment})`, silenceId: silence.id });
          continue;
        }
        inhibition ??= this.#inhibitedBy(roles, now);
        const muted = await inhibition;
        if (muted !== undefined) {
          decision(ref, {
            outcome: 'inhibited',
            reason: `inhibited by ${muted.inhibitionId}: event ${muted.sourceEventId} (last seen ${muted.seenAt}) is an active source with equal values`,
            inhibition: { id: muted.inhibitionId, sourceEventId: muted.sourceEventId },
          });
          continue;
        }
      }
      if (noise === undefined) {
        decided.toFire.push({ compiled, reason: 'matched' });
        continue;
      }
      const outcome = await this.#fold(compiled, ctx, event, resolution, now);
      if (outcome.window.dueAt !== undefined && (outcome.window.mode === 'once_after' || outcome.window.mode === 'group')) {
        decided.wakeAt.push(Date.parse(outcome.window.dueAt));
      }
      if (outcome.outcome === 'fired') {
        decided.toFire.push({ compiled, reason: outcome.reason, window: outcome.window, ...(outcome.context === undefined ? {} : { extra: outcome.context }) });
      } else {
        decision(ref, { outcome: outcome.outcome, reason: outcome.reason, window: outcome.window });
      }
    }
    return decided;
  }

  /** Starts or ends the inhibition sources this event is; returns every inhibition's view of the event. */
  async #inhibitionSources(event: ReflexEvent, ctx: EventContext, now: Date): Promise<Role[]> {
    const roles: Role[] = [];
    for (const c of this.#config.inhibitions) {
      const role = inhibitionRole(c, ctx);
      roles.push({ id: c.inhibition.id, role });
      if (role.source) await this.#store.noiseState.update(role.key, now, () => foldInhibitionSource(c, role, event, now.getTime()));
    }
    return roles;
  }

  async #inhibitedBy(roles: readonly Role[], now: Date): Promise<Muting> {
    for (const { id, role } of roles) {
      if (!role.target) continue;
      const source = activeSource(await this.#store.noiseState.get(role.key, now));
      if (source !== undefined) return { kind: 'inhibited', inhibitionId: id, sourceEventId: source.eventId, seenAt: source.seenAt };
    }
    return undefined;
  }

  async #fold(compiled: CompiledRule, ctx: EventContext, event: ReflexEvent, resolution: boolean, now: Date): Promise<NoiseOutcome> {
    const noise = compiled.noise!;
    const nowMs = now.getTime();
    const ident = identityOf(noise.groupBy, noise.labelNames, ctx);
    const owner = compiled.ref;
    if (noise.kind === 'group') {
      const alert = identityOf(noise.alertKey, noise.alertNames, ctx);
      return this.#store.noiseState.update(noiseKey(owner, 'group', ident.key), now, (c) => foldGroup(noise, ident, alert, resolution, owner, c, event, nowMs));
    }
    const key = noiseKey(owner, noise.mode, ident.key);
    switch (noise.mode) {
      case 'once_within':
        return this.#store.noiseState.update(key, now, (c) => foldOnceWithin(noise, ident, owner, c, event, nowMs));
      case 'threshold':
        return this.#store.noiseState.update(key, now, (c) => foldThreshold(noise, ident, owner, c, event, nowMs));
      case 'once_after':
        return this.#store.noiseState.update(key, now, (c) => foldOnceAfter(noise, ident, owner, c, event, nowMs));
    }
  }
}

/** The decisions of the rules that fired now, from what their enforcement says. */
export function firedDecisions(event: ReflexEvent, toFire: readonly ToFire[], enforcements: readonly Enforcement[], at: string): Decision[] {
  const byRule = new Map(enforcements.map((e) => [e.rule, e]));
  const out: Decision[] = [];
  for (const f of toFire) {
    const enforcement = byRule.get(f.compiled.ref);
    if (enforcement === undefined) continue;
    const base = { id: decisionIdFor(event.id, f.compiled.ref), eventId: event.id, rule: f.compiled.ref, at, traceId: event.traceId, enforcementId: enforcement.id, ...(f.window === undefined ? {} : { window: f.window }) };
    if (enforcement.status === 'fired') {
      out.push({ ...base, outcome: 'fired', reason: f.reason, ...(enforcement.executionId === undefined ? {} : { executionId: enforcement.executionId }) });
    } else {
      out.push({ ...base, outcome: 'failed', reason: `matched (${f.reason}) but could not fire: ${enforcement.error?.message ?? 'unknown error'}`, ...(enforcement.error === undefined ? {} : { error: enforcement.error }) });
    }
  }
  return out;
}
