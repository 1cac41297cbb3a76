import { StringDecoder } from 'node:string_decoder';
import type { OutputStream } from './runner.ts';

export interface CapturedOutput {
  text: string;
  /** More was written than the cap; `text` holds the first `limit` bytes (cut on a character boundary). */
  truncated: boolean;
}

/** A line longer than this is handed on in pieces, so one endless line cannot hold output back. */
const MAX_LINE_CHARS = 64 * 1024;

/**
 * Keeps the first `limit` bytes of one output stream and hands it on line by line as it
 * arrives. Past the cap nothing more is kept or handed on, except one marker line saying so.
 */
export class OutputCollector {
  readonly #stream: OutputStream;
  readonly #limit: number;
  readonly #onLine: ((stream: OutputStream, line: string) => void) | undefined;
  readonly #decoder = new StringDecoder('utf8');
  readonly #chunks: Buffer[] = [];
  #bytes = 0;
  #truncated = false;
  #pending = '';
  #ended = false;

  constructor(stream: OutputStream, limit: number, onLine?: (stream: OutputStream, line: string) => void) {
    this.#stream = stream;
    this.#limit = limit;
    this.#onLine = onLine;
  }

  push(chunk: Buffer): void {
    if (this.#truncated || this.#ended) return;
    let piece = chunk;
    const room = this.#limit - this.#bytes;
    if (piece.length > room) {
      piece = piece.subarray(0, utf8Boundary(piece, room));
      this.#truncated = true;
    }
    if (piece.length > 0) {
      this.#chunks.push(piece);
      this.#bytes += piece.length;
      this.#lines(this.#decoder.write(piece));
    }
    if (this.#truncated) {
      this.#flush();
      this.#emit(`[reflex] ${this.#stream} truncated: more than ${this.#limit} bytes`);
    }
  }

  end(): CapturedOutput {
    if (!this.#ended) {
      this.#ended = true;
      if (!this.#truncated) this.#lines(this.#decoder.end());
      this.#flush();
    }
    return { text: Buffer.concat(this.#chunks).toString('utf8'), truncated: this.#truncated };
  }

  #lines(text: string): void {
    if (text === '') return;
    const parts = (this.#pending + text).split('\n');
    this.#pending = parts.pop() ?? '';
    for (const line of parts) this.#emit(line.endsWith('\r') ? line.slice(0, -1) : line);
    while (this.#pending.length > MAX_LINE_CHARS) {
      this.#emit(this.#pending.slice(0, MAX_LINE_CHARS));
      this.#pending = this.#pending.slice(MAX_LINE_CHARS);
    }
  }

  #flush(): void {
    if (this.#pending !== '') this.#emit(this.#pending);
    this.#pending = '';
  }

  #emit(line: string): void {
    if (this.#onLine === undefined) return;
    try {
      this.#onLine(this.#stream, line);
    } catch {
      // A listener that throws loses its lines; it must not break the action (RunContext.onOutput must not throw).
    }
  }
}

/** The largest cut ≤ `at` that does not split a UTF-8 character. */
export function utf8Boundary(buf: Buffer, at: number): number {
  let cut = Math.max(0, Math.min(at, buf.length));
  // A continuation byte (10xxxxxx) at `cut` means a character starts before it.
  while (cut > 0 && cut < buf.length && ((buf[cut] ?? 0) & 0xc0) === 0x80) cut--;
  return cut;
}
