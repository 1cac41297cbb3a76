import { describe, expect, it } from 'vitest';
import { SseParser } from './sse.ts';

const feed = (chunks: string[]): ReturnType<SseParser['push']> => {
  const parser = new SseParser();
  return chunks.flatMap((c) => parser.push(c));
};

describe('SseParser', () => {
  it('reads events with names, ids and data, whatever the line endings', () => {
    const text = 'id: 1\nevent: stdout\ndata: {"text":"a"}\n\nid: 2\r\nevent: stderr\r\ndata: {"text":"b"}\r\n\r\nevent: end\rdata: {"status":"succeeded"}\r\r';
    expect(feed([text])).toEqual([
      { event: 'stdout', data: '{"text":"a"}', id: '1' },
      { event: 'stderr', data: '{"text":"b"}', id: '2' },
      { event: 'end', data: '{"status":"succeeded"}', id: '2' },
    ]);
  });

  it('gives the same events however the stream is cut, CRLF split included', () => {
    const text = 'id: 7\r\nevent: stdout\r\ndata: first\r\ndata: second\r\n\r\n: keep-alive\r\n\r\ndata: plain\r\n\r\n';
    const whole = feed([text]);
    expect(whole).toEqual([
      { event: 'stdout', data: 'first\nsecond', id: '7' },
      { event: 'message', data: 'plain', id: '7' },
    ]);
    for (let size = 1; size <= 5; size++) {
      const chunks: string[] = [];
      for (let i = 0; i < text.length; i += size) chunks.push(text.slice(i, i + size));
      expect(feed(chunks), `chunks of ${size}`).toEqual(whole);
    }
  });

  it('follows the field rules: one leading space dropped, no colon, retry, unknown fields, events without data', () => {
    const parser = new SseParser();
    expect(parser.push('data:  two spaces\ndata\n\n')).toEqual([{ event: 'message', data: ' two spaces\n', id: '' }]);
    expect(parser.push('retry: 2500\nfoo: bar\nid: 9\n\n')).toEqual([]);
    expect(parser.retryMs).toBe(2500);
    expect(parser.lastEventId).toBe('9');
    expect(parser.push('event: x\ndata: y\n')).toEqual([]); // not dispatched until the blank line
    expect(parser.push('\n')).toEqual([{ event: 'x', data: 'y', id: '9' }]);
  });
});
