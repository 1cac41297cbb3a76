/**
 * A cache's "is it current?" gate: `invalidate()` marks it stale (a change notice, a timer), and
 * `fresh()` reloads it once, however many callers wait, and again if it went stale meanwhile. A
 * failed load leaves it stale, so the next caller tries again.
 */
export class Refresher {
  readonly #load: () => Promise<void>;
  #stale = true;
  #loading: Promise<void> | undefined;

  constructor(load: () => Promise<void>) {
    this.#load = load;
  }

  invalidate(): void {
    this.#stale = true;
  }

  async fresh(): Promise<void> {
    while (this.#stale) {
      this.#loading ??= this.#reload().finally(() => {
        this.#loading = undefined;
      });
      await this.#loading;
    }
  }

  async #reload(): Promise<void> {
    this.#stale = false;
    try {
      await this.#load();
    } catch (err) {
      this.#stale = true;
      throw err;
    }
  }
}
