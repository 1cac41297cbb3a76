/**
 * The engine's in-memory view of silences and inhibitions, compiled. Reloaded when the API
 * announces a change (`<prefix>.control.noise`) and on the engine's reload timer. Silences that
 * have ended are left out; whether one is active is decided per event, by its times.
 */
import type { Logger } from 'pino';
import { compileInhibition, compileSilence, type CompiledInhibition, type CompiledSilence } from '@reflex/rules';
import { Refresher } from '@reflex/runtime';
import type { Store } from '@reflex/store';

export class NoiseConfig {
  readonly #store: Store;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #refresher: Refresher;
  #silences: CompiledSilence[] = [];
  #inhibitions: CompiledInhibition[] = [];

  constructor(store: Store, logger: Logger, now: () => number = Date.now) {
    this.#store = store;
    this.#logger = logger;
    this.#now = now;
    this.#refresher = new Refresher(() => this.#load());
  }

  invalidate(): void {
    this.#refresher.invalidate();
  }

  async fresh(): Promise<void> {
    await this.#refresher.fresh();
  }

  get silences(): readonly CompiledSilence[] {
    return this.#silences;
  }

  get inhibitions(): readonly CompiledInhibition[] {
    return this.#inhibitions;
  }

  async #load(): Promise<void> {
    const [silences, inhibitions] = await Promise.all([this.#store.silences.list(), this.#store.inhibitions.list()]);
    const now = this.#now();
    const compiledSilences: CompiledSilence[] = [];
    for (const silence of silences) {
      if (Date.parse(silence.endsAt) <= now) continue;
      try {
        compiledSilences.push(compileSilence(silence));
      } catch (err) {
        this.#logger.error({ err, silence: silence.id }, 'silence does not compile; ignored');
      }
    }
    const compiledInhibitions: CompiledInhibition[] = [];
    for (const inhibition of inhibitions) {
      try {
        compiledInhibitions.push(compileInhibition(inhibition));
      } catch (err) {
        this.#logger.error({ err, inhibition: inhibition.id }, 'inhibition does not compile; ignored');
      }
    }
    this.#silences = compiledSilences;
    this.#inhibitions = compiledInhibitions;
  }
}
