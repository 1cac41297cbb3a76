/**
 * A Server-Sent Events reader, as the HTML standard describes the format: lines end in LF, CRLF or
 * CR (also split across chunks); `data` lines join with LF; `event`, `id` and `retry` set fields;
 * a line starting with `:` is a comment (keep-alive); a blank line dispatches the event. An event
 * with no data is not dispatched, but its `id` still counts as the last event id.
 */

export interface SseEvent {
  /** `message` when the stream named none. */
  event: string;
  data: string;
  /** The last event id seen so far (what a reconnect sends as Last-Event-ID). */
  id: string;
}

export class SseParser {
  #buffer = '';
  /** The previous chunk ended in CR: a LF starting the next one belongs to it. */
  #pendingCr = false;
  #event = '';
  #data: string[] = [];
  #lastId = '';
  /** Milliseconds the server asked a client to wait before reconnecting, if it did. */
  retryMs: number | undefined;

  get lastEventId(): string {
    return this.#lastId;
  }

  /** Feeds decoded text; returns the events it completed. */
  push(chunk: string): SseEvent[] {
    let text = chunk;
    if (this.#pendingCr && text.startsWith('\n')) text = text.slice(1);
    this.#pendingCr = false;
    this.#buffer += text;
    const out: SseEvent[] = [];
    for (;;) {
      const match = /\r\n|\r|\n/.exec(this.#buffer);
      if (match === null) break;
      // A CR at the very end may be the first half of a CRLF: take the line, remember the CR.
      if (match[0] === '\r' && match.index === this.#buffer.length - 1) this.#pendingCr = true;
      const line = this.#buffer.slice(0, match.index);
      this.#buffer = this.#buffer.slice(match.index + match[0].length);
      const event = this.#line(line);
      if (event !== undefined) out.push(event);
    }
    return out;
  }

  #line(line: string): SseEvent | undefined {
    if (line === '') return this.#dispatch();
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    switch (field) {
      case 'event':
        this.#event = value;
        break;
      case 'data':
        this.#data.push(value);
        break;
      case 'id':
        if (!value.includes('\0')) this.#lastId = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.retryMs = Number(value);
        break;
      default:
        break; // unknown fields are ignored
    }
    return undefined;
  }

  #dispatch(): SseEvent | undefined {
    const data = this.#data;
    const event = this.#event;
    this.#data = [];
    this.#event = '';
    if (data.length === 0) return undefined;
    return { event: event === '' ? 'message' : event, data: data.join('\n'), id: this.#lastId };
  }
}
