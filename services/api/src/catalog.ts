/**
 * What the hot ingest paths look up on every request, kept in memory: trigger types (to validate
 * payloads) and the webhook urls that rules listen on. Reloaded when a rule or pack changes
 * (bus notices from any API replica) and every `refreshMs` as a safety net.
 */
import type { Action, TriggerType } from '@reflex/model';
import { Refresher } from '@reflex/runtime';
import type { Store } from '@reflex/store';

export const WEBHOOK_TRIGGER = 'core.webhook';

export class Catalog {
  readonly #store: Store;
  #triggerTypes = new Map<string, TriggerType>();
  #actions = new Map<string, Action>();
  #webhookUrls = new Set<string>();
  readonly #refresher = new Refresher(() => this.#load());

  constructor(store: Store) {
    this.#store = store;
  }

  /** Marks the cache stale; the next lookup reloads. */
  invalidate(): void {
    this.#refresher.invalidate();
  }

  async #fresh(): Promise<void> {
    await this.#refresher.fresh();
  }

  async #load(): Promise<void> {
    const [types, rules, actions] = await Promise.all([
      this.#store.triggerTypes.list(),
      this.#store.rules.list({ triggerType: WEBHOOK_TRIGGER }),
      this.#store.actions.list(),
    ]);
    this.#triggerTypes = new Map(types.map((t) => [t.ref, t]));
    this.#actions = new Map(actions.map((a) => [a.ref, a]));
    // Every rule counts, enabled or not: disabling a rule must not make its sender see 404s.
    this.#webhookUrls = new Set(
      rules.map((r) => r.trigger.parameters?.['url']).filter((u): u is string => typeof u === 'string'),
    );
  }

  async triggerType(ref: string): Promise<TriggerType | undefined> {
    await this.#fresh();
    return this.#triggerTypes.get(ref);
  }

  async action(ref: string): Promise<Action | undefined> {
    await this.#fresh();
    return this.#actions.get(ref);
  }

  async webhookUrls(): Promise<string[]> {
    await this.#fresh();
    return [...this.#webhookUrls].sort();
  }

  async hasWebhook(url: string): Promise<boolean> {
    await this.#fresh();
    return this.#webhookUrls.has(url);
  }
}
