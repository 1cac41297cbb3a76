import { NonRetriableError, RetryAfterError, toErrorJson } from '@reflex/model';
import { describe, expect, it } from 'vitest';
import { builtinRunners } from './builtin.ts';
import { ActionCanceledError, ActionFailedError, ActionTimeoutError, isTimeoutReason, resultOf, retryHintOf } from './errors.ts';
import { OutputCollector } from './output.ts';
import type { OutputStream } from './runner.ts';

function collector(limit: number) {
  const lines: string[] = [];
  const c = new OutputCollector('stdout', limit, (_s: OutputStream, line: string) => lines.push(line));
  return { c, lines };
}

describe('OutputCollector', () => {
  it('splits lines across chunks, including a character split between chunks', () => {
    const { c, lines } = collector(1000);
    const bytes = Buffer.from('ab\ncé\r\nlast');
    c.push(bytes.subarray(0, 5)); // 'ab\nc' + first byte of 'é'
    c.push(bytes.subarray(5));
    expect(lines).toEqual(['ab', 'cé']);
    expect(c.end()).toEqual({ text: 'ab\ncé\r\nlast', truncated: false });
    expect(lines).toEqual(['ab', 'cé', 'last']);
  });

  it('hands on an endless line in pieces', () => {
    const { c, lines } = collector(1_000_000);
    c.push(Buffer.from('x'.repeat(150_000)));
    expect(lines.map((l) => l.length)).toEqual([65_536, 65_536]);
    c.end();
    expect(lines.map((l) => l.length)).toEqual([65_536, 65_536, 18_928]);
  });

  it('stops at the cap exactly, with one marker line', () => {
    const { c, lines } = collector(10);
    c.push(Buffer.from('12345'));
    c.push(Buffer.from('67890'));
    c.push(Buffer.from('more\n'));
    c.push(Buffer.from('and more\n'));
    expect(c.end()).toEqual({ text: '1234567890', truncated: true });
    expect(lines).toEqual(['1234567890', '[reflex] stdout truncated: more than 10 bytes']);
  });

  it('survives a listener that throws', () => {
    const c = new OutputCollector('stderr', 100, () => {
      throw new Error('listener broke');
    });
    c.push(Buffer.from('a\nb\n'));
    expect(c.end()).toEqual({ text: 'a\nb\n', truncated: false });
  });
});

describe('runner errors', () => {
  it('carry codes, results and retry hints', () => {
    const failed = new ActionFailedError('exited with code 2', { result: { exitCode: 2 } });
    expect(toErrorJson(failed)).toEqual({ name: 'ActionFailedError', code: 'ACTION_FAILED', message: 'exited with code 2' });
    expect(resultOf(failed)).toEqual({ exitCode: 2 });
    expect(retryHintOf(failed)).toEqual({ retriable: true });
    expect(retryHintOf(new ActionFailedError('404', { retriable: false }))).toEqual({ retriable: false });
    expect(retryHintOf(new ActionFailedError('429', { retryAfterMs: 5000 }))).toEqual({ retriable: true, retryAfterMs: 5000 });
    expect(retryHintOf(new NonRetriableError('bad'))).toEqual({ retriable: false });
    expect(retryHintOf(new RetryAfterError('later', 100))).toEqual({ retriable: true, retryAfterMs: 100 });
    expect(retryHintOf(new ActionCanceledError('canceled'))).toEqual({ retriable: false });
    expect(retryHintOf(new ActionTimeoutError('slow', { result: 1 }))).toEqual({ retriable: true });
    expect(retryHintOf(new Error('unexpected'))).toEqual({ retriable: true });
    expect(toErrorJson(new ActionTimeoutError('slow'))).toMatchObject({ code: 'TIMEOUT' });
    expect(toErrorJson(new ActionCanceledError('stop'))).toMatchObject({ code: 'CANCELED' });
    expect(resultOf(new Error('x'))).toBeUndefined();
  });

  it('tell a timeout abort reason from a cancel', () => {
    expect(isTimeoutReason(new DOMException('t', 'TimeoutError'))).toBe(true);
    expect(isTimeoutReason(new ActionTimeoutError('t'))).toBe(true);
    expect(isTimeoutReason(new DOMException('a', 'AbortError'))).toBe(false);
    expect(isTimeoutReason(new Error('timeout'))).toBe(false);
    expect(isTimeoutReason(Object.assign(new Error('attempt exceeded its time limit'), { code: 'TIMEOUT' }))).toBe(true);
    expect(isTimeoutReason(undefined)).toBe(false);
  });
});

describe('builtinRunners', () => {
  it('ships every runner type once', () => {
    expect(builtinRunners().map((r) => r.name)).toEqual(['noop', 'echo', 'local-shell-cmd', 'local-shell-script', 'http-request', 'nodejs']);
  });
});
