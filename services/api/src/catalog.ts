/**
 * What the hot ingest paths look up on every request, kept in memory: trigger types (to validate
 * payloads) and the webhook urls that rules listen on, with the trigger types listening on each
 * (`core.webhook`, and pack trigger types that declare `webhook:`). Reloaded when a rule or pack
 * changes (bus notices from any API replica) and every `refreshMs` as a safety net.
 */
import type { Action, TriggerType } from '@reflex/model';
import { Refresher } from '@reflex/runtime';
import type { Store } from '@reflex/store';

export const WEBHOOK_TRIGGER = 'core.webhook';

export class Catalog {
  readonly #store: Store;
  #triggerTypes = new Map<string, TriggerType>();
  #actions = new Map<string, Action>();
  /** url → the webhook trigger types whose rules listen on it. */
  #webhookUrls = new Map<string, Set<string>>();
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
    const [types, actions] = await Promise.all([this.#store.triggerTypes.list(), this.#store.actions.list()]);
    const webhookTypes = types.filter((t) => t.ref === WEBHOOK_TRIGGER || t.webhook !== undefined).map((t) => t.ref);
    const rules = (await Promise.all(webhookTypes.map((triggerType) => this.#store.rules.list({ triggerType })))).flat();
    this.#triggerTypes = new Map(types.map((t) => [t.ref, t]));
    this.#actions = new Map(actions.map((a) => [a.ref, a]));
    // Every rule counts, enabled or not: disabling a rule must not make its sender see 404s.
    const urls = new Map<string, Set<string>>();
    for (const rule of rules) {
      const url = rule.trigger.parameters?.['url'];
      if (typeof url !== 'string') continue;
      let set = urls.get(url);
      if (set === undefined) urls.set(url, (set = new Set()));
      set.add(rule.trigger.type);
    }
    this.#webhookUrls = urls;
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
    return [...this.#webhookUrls.keys()].sort();
  }

  async hasWebhook(url: string): Promise<boolean> {
    await this.#fresh();
    return this.#webhookUrls.has(url);
  }

  /** The webhook trigger types with rules on `url`, by ref (empty when none). */
  async webhookTypes(url: string): Promise<TriggerType[]> {
    await this.#fresh();
    return [...(this.#webhookUrls.get(url) ?? [])]
      .sort()
      .map((ref) => this.#triggerTypes.get(ref))
      .filter((t): t is TriggerType => t !== undefined);
  }
}
