/**
 * The engine's in-memory view of enabled rules (compiled, indexed) and of actions. Reloaded
 * from the store when a rule or pack changes (bus notice) and on a timer as a safety net.
 * `fresh()` is awaited before each event, so an event never meets a rule set older than the
 * last notice the engine received.
 */
import type { Logger } from 'pino';
import type { Action } from '@reflex/model';
import { RuleSet } from '@reflex/rules';
import { Refresher } from '@reflex/runtime';
import type { Store } from '@reflex/store';

export class RuleCache {
  readonly #store: Store;
  readonly #logger: Logger;
  #rules = new RuleSet();
  #actions = new Map<string, Action>();
  readonly #refresher = new Refresher(() => this.#load());

  constructor(store: Store, logger: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  invalidate(): void {
    this.#refresher.invalidate();
  }

  get rules(): RuleSet {
    return this.#rules;
  }

  action(ref: string): Action | undefined {
    return this.#actions.get(ref);
  }

  async fresh(): Promise<void> {
    await this.#refresher.fresh();
  }

  async #load(): Promise<void> {
    const [rules, actions] = await Promise.all([this.#store.rules.list({ enabled: true }), this.#store.actions.list()]);
    const next = new RuleSet();
    for (const rule of rules) {
      try {
        next.upsert(rule);
      } catch (err) {
        // A stored rule that no longer compiles (e.g. written by an older version) is skipped, loudly.
        this.#logger.error({ err, rule: rule.ref }, 'rule does not compile; skipped');
      }
    }
    this.#rules = next;
    this.#actions = new Map(actions.map((a) => [a.ref, a]));
    this.#logger.debug({ rules: next.size, actions: actions.length }, 'rules loaded');
  }
}
