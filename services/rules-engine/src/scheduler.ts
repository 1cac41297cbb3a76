/**
 * The time-driven half of noise control: once_after windows that close and alert groups whose
 * flush is due fire from here, in every rules-engine replica at once, safely.
 *
 * Each due state is claimed with one atomic update that turns what is to be sent into a *pending
 * firing* leased to this replica (claimOnceAfter / claimGroup). The firing's execution is then
 * written (its ids derived from rule, window and sequence) and requested, and only then is the
 * pending firing cleared. A replica that dies between the claim and the clear leaves the pending
 * firing behind; once its lease runs out, the next scheduler finishes it with the same ids, so
 * the store's insert-if-absent, the bus's dedup and the runner's compare-and-set keep it one execution.
 *
 * Wake-ups: a timer armed for the earliest due time this replica knows of (the event path tells
 * it), and a poll every `pollMs` for states other replicas wrote.
 */
import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import { windowDecisionIdFor, type Action, type BusNames, type Decision } from '@reflex/model';
import { claimGroup, claimOnceAfter, finishGroup, finishOnceAfter, type CompiledRule, type PendingFiring } from '@reflex/rules';
import { publishExecutionRequest } from '@reflex/runtime';
import type { NoiseState, Store } from '@reflex/store';
import { enforceWindow } from './enforce.ts';
import type { RuleKv } from './kv-context.ts';

export interface SchedulerDeps {
  store: Store;
  bus: Bus;
  names: BusNames;
  logger: Logger;
  /** The enabled rule of a ref (fresh), or undefined. */
  ruleOf: (ref: string) => Promise<CompiledRule | undefined>;
  actionOf: (ref: string) => Action | undefined;
  /** Datastore keys the rule's templates read. */
  kvOf?: (rule: CompiledRule) => Promise<RuleKv | undefined>;
  now: () => number;
  /** How often to look for states other replicas made due. Default 1000 ms. */
  pollMs?: number;
  /** How long a claimed firing is this replica's before another may finish it. Default 30 s. */
  leaseMs?: number;
}

const BATCH = 100;
const MAX_TIMER_MS = 3_600_000;

export class WindowScheduler {
  readonly #deps: SchedulerDeps;
  readonly #pollMs: number;
  readonly #leaseMs: number;
  readonly #logger: Logger;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = Number.POSITIVE_INFINITY;
  #poll: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #started = false;
  #stopping = false;

  constructor(deps: SchedulerDeps) {
    this.#deps = deps;
    this.#pollMs = deps.pollMs ?? 1000;
    this.#leaseMs = deps.leaseMs ?? 30_000;
    this.#logger = deps.logger.child({ component: 'window-scheduler' });
  }

  start(): void {
    this.#started = true;
    this.#poll = setInterval(() => this.#kick(), this.#pollMs);
    this.#poll.unref();
    this.#kick();
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    if (this.#poll !== undefined) clearInterval(this.#poll);
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Number.POSITIVE_INFINITY;
    await this.#running;
  }

  /** Something is due at `atMs`: run then (or at once, if it is past). */
  wake(atMs: number): void {
    if (!this.#started || this.#stopping || atMs >= this.#timerAt) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timerAt = atMs;
    // Timers longer than ~24.8 days fire at once in Node: cap them (the pass finds nothing, the poll covers the rest).
    const delay = Math.min(Math.max(0, atMs - this.#deps.now()), MAX_TIMER_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#timerAt = Number.POSITIVE_INFINITY;
      this.#kick();
    }, delay);
    this.#timer.unref();
  }

  /**
   * Runs a pass now (after the pass in progress, if any) and resolves once no pass is running:
   * whatever was due at the clock's time is then fired and recorded. For callers that drive the
   * clock themselves (`reflex pack test`); serialized with the timer's and the poll's passes.
   */
  async runDue(): Promise<void> {
    this.#kick();
    while (this.#running !== undefined) await this.#running;
  }

  /** One pass over everything due now; returns how many firings it handled (tests call it with their own clock). */
  async tick(): Promise<number> {
    let fired = 0;
    for (;;) {
      const due = await this.#deps.store.noiseState.listDue(new Date(this.#deps.now()), BATCH);
      for (const state of due) {
        if (this.#stopping) return fired;
        try {
          fired += await this.#handle(state);
        } catch (err) {
          // The state stays due (or its lease runs out): the next pass tries again.
          this.#logger.error({ err, key: state.key, rule: state.owner }, 'could not fire a due window; will retry');
        }
      }
      if (due.length < BATCH) return fired;
    }
  }

  #kick(): void {
    if (!this.#started || this.#stopping) return;
    if (this.#running !== undefined) {
      this.#again = true;
      return;
    }
    this.#running = this.tick()
      .catch((err: unknown) => this.#logger.error({ err }, 'scheduler pass failed'))
      .then(() => undefined)
      .finally(() => {
        this.#running = undefined;
        if (this.#again) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  async #handle(state: NoiseState): Promise<number> {
    const mode = state.data['mode'];
    if (mode !== 'once_after' && mode !== 'group') return 0;
    const store = this.#deps.store;
    const compiled = await this.#deps.ruleOf(state.owner);
    const noise = compiled?.noise;
    const fits = noise !== undefined && (mode === 'group' ? noise.kind === 'group' : noise.kind === 'throttle' && noise.mode === 'once_after');
    if (compiled === undefined || noise === undefined || !fits) {
      // The rule was deleted, disabled or changed its noise control: its old window fires no more.
      await store.noiseState.update(state.key, new Date(this.#deps.now()), (current) => ({ write: current === null ? undefined : null, result: null }));
      this.#logger.info({ key: state.key, rule: state.owner }, 'dropped the window of a rule that no longer has it');
      return 0;
    }
    const claimedAt = this.#deps.now();
    const pending = await store.noiseState.update(state.key, new Date(claimedAt), (current) =>
      noise.kind === 'group' ? claimGroup(noise, compiled.ref, current, claimedAt, this.#leaseMs) : claimOnceAfter(compiled.ref, current, claimedAt, this.#leaseMs),
    );
    let fired = 0;
    if (pending !== undefined) {
      await this.#fire(pending, compiled);
      fired = 1;
      const finishedAt = new Date(this.#deps.now());
      await store.noiseState.update(state.key, finishedAt, (current) =>
        mode === 'group' ? finishGroup(compiled.ref, current, pending) : finishOnceAfter(compiled.ref, current, pending),
      );
    }
    const next = await store.noiseState.get(state.key, new Date(this.#deps.now()));
    if (next?.dueAt !== undefined) this.wake(Date.parse(next.dueAt));
    return fired;
  }

  /** Writes the firing's enforcement, execution and decision (derived ids), then requests the execution. */
  async #fire(pending: PendingFiring, compiled: CompiledRule): Promise<void> {
    const now = new Date(this.#deps.now()).toISOString();
    const kv = await this.#deps.kvOf?.(compiled);
    const { enforcement, execution, request } = enforceWindow(pending, compiled, this.#deps.actionOf(compiled.rule.action.ref), now, kv);
    const window = { id: pending.windowId, mode: pending.mode, key: pending.key, seq: pending.seq, count: pending.events };
    const decision: Decision = {
      id: windowDecisionIdFor(compiled.ref, pending.windowId, pending.seq),
      eventId: pending.event.id,
      rule: compiled.ref,
      outcome: enforcement.status === 'fired' ? 'fired' : 'failed',
      reason:
        enforcement.status === 'fired'
          ? `${pending.mode === 'group' ? `group ${pending.key || '(one group)'} notified (#${pending.seq})` : `once_after window of ${pending.key || 'the rule'} closed`} with ${pending.events} event(s)`
          : `the ${pending.mode === 'group' ? 'group' : 'window'} could not fire: ${enforcement.error?.message ?? 'unknown error'}`,
      at: now,
      traceId: pending.event.traceId,
      enforcementId: enforcement.id,
      window,
      ...(enforcement.executionId === undefined ? {} : { executionId: enforcement.executionId }),
      ...(enforcement.error === undefined ? {} : { error: enforcement.error }),
    };
    await this.#deps.store.record([{ event: pending.event, enforcements: [enforcement], executions: execution === undefined ? [] : [execution], decisions: [decision] }]);
    if (request !== undefined) await publishExecutionRequest(this.#deps.bus, this.#deps.names, request);
    const log = this.#logger.child({ eventId: pending.event.id, traceId: pending.event.traceId });
    if (enforcement.status === 'fired') log.info({ rule: compiled.ref, window: pending.windowId, seq: pending.seq, executionId: enforcement.executionId }, 'window fired');
    else log.warn({ rule: compiled.ref, window: pending.windowId, seq: pending.seq, error: enforcement.error }, 'window could not fire');
  }
}
