/**
 * Collects an execution's live output, stores it in batches (so a slow reader, a reconnecting
 * browser or another process can read it back) and announces each batch on the bus for live streams.
 */
import type { Bus } from '@reflex/bus';
import { encodeJson } from '@reflex/bus';
import type { BusNames } from '@reflex/model';
import type { OutputChunk, Store } from '@reflex/store';

const FLUSH_MS = 100;
const MAX_BATCH = 200;
/** Past this, further output is dropped (and one marker line says so). The result keeps its own capped copy. */
const MAX_TOTAL_BYTES = 16 * 1024 * 1024;

export class OutputRecorder {
  readonly #executionId: string;
  readonly #store: Store;
  readonly #bus: Bus;
  readonly #names: BusNames;
  #seq = 0;
  #bytes = 0;
  #pending: OutputChunk[] = [];
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #dropped = false;

  /** `afterSeq`: the last seq already stored (an earlier attempt's output); this attempt continues after it. */
  constructor(executionId: string, deps: { store: Store; bus: Bus; names: BusNames }, afterSeq = 0) {
    this.#executionId = executionId;
    this.#seq = afterSeq;
    this.#store = deps.store;
    this.#bus = deps.bus;
    this.#names = deps.names;
  }

  line(stream: 'stdout' | 'stderr', text: string): void {
    if (this.#dropped) return;
    this.#bytes += Buffer.byteLength(text);
    if (this.#bytes > MAX_TOTAL_BYTES) {
      this.#dropped = true;
      text = `[reflex: output over ${MAX_TOTAL_BYTES} bytes; the rest is not kept]`;
    }
    this.#pending.push({ seq: ++this.#seq, stream, text, at: new Date().toISOString() });
    if (this.#pending.length >= MAX_BATCH) this.#schedule(0);
    else this.#schedule(FLUSH_MS);
  }

  #schedule(ms: number): void {
    if (this.#timer !== undefined && ms > 0) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, ms);
  }

  /** Writes what is pending; resolves when everything so far is stored. Never throws. */
  async flush(): Promise<void> {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#pending;
    this.#pending = [];
    this.#flushing = this.#flushing.then(async () => {
      if (batch.length === 0) return;
      try {
        await this.#store.outputs.append(this.#executionId, batch);
        await this.#bus.notify(this.#names.controlSubject(`output.${this.#executionId}`), encodeJson({ seq: batch.at(-1)?.seq }));
      } catch {
        // Live output is best effort: the execution's result keeps its own copy of the output.
      }
    });
    await this.#flushing;
  }
}
