/**
 * Micro-batching of the engine's store writes: the firings of events handled at the same time
 * (the consumer runs up to `concurrency` handlers at once) go to the store in one
 * `store.record(batch)` — one SQLite transaction, one bulk write per MongoDB collection — instead
 * of one each. A write starts on the next turn of the event loop after the first firing queued
 * (so the handlers that reached this point together share it), or as soon as the previous write
 * is done; never two at once.
 *
 * Each caller's promise settles with its own record: resolved once the batch holding it is
 * stored, so the engine still acks an event only after its records are stored and its requests
 * published. A failed batch is retried record by record, so one record the store refuses fails
 * only its own event (which is then redelivered), never its neighbours.
 */
import type { FiringRecord, Store } from '@reflex/store';

interface Pending {
  record: FiringRecord;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface RecordBatcherOptions {
  /** Most firings in one write. Default 256. */
  maxBatch?: number;
  /** Told the size of every batch written (for metrics and tests). */
  onBatch?: (size: number) => void;
}

export class RecordBatcher {
  readonly #store: Pick<Store, 'record'>;
  readonly #maxBatch: number;
  readonly #onBatch: ((size: number) => void) | undefined;
  #queue: Pending[] = [];
  #writing = false;
  #scheduled = false;

  constructor(store: Pick<Store, 'record'>, options: RecordBatcherOptions = {}) {
    this.#store = store;
    this.#maxBatch = Math.max(1, options.maxBatch ?? 256);
    this.#onBatch = options.onBatch;
  }

  /** Resolves once `record` is stored (with the others of its batch); rejects if it could not be. */
  write(record: FiringRecord): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ record, resolve, reject });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#writing || this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    if (this.#writing || this.#queue.length === 0) return;
    this.#writing = true;
    const batch = this.#queue.splice(0, this.#maxBatch);
    try {
      await this.#write(batch);
    } finally {
      this.#writing = false;
      if (this.#queue.length > 0) this.#schedule();
    }
  }

  async #write(batch: Pending[]): Promise<void> {
    this.#onBatch?.(batch.length);
    try {
      await this.#store.record(batch.map((p) => p.record));
      for (const p of batch) p.resolve();
      return;
    } catch (err) {
      if (batch.length === 1) {
        batch[0]!.reject(err);
        return;
      }
    }
    // The batch failed: find out which record did, so the others are not redelivered for nothing.
    for (const p of batch) {
      try {
        await this.#store.record([p.record]);
        p.resolve();
      } catch (err) {
        p.reject(err);
      }
    }
  }
}
