/**
 * The Bus contract, run against every adapter (see bus.ts for the semantics it pins down).
 * Each test gets a fresh bus from `factory`, owns a stream with a random name and subjects, and
 * closes the bus afterwards; `options.deleteStream` lets a shared server drop the test's streams.
 *
 * Waits poll against deadlines. The only timing assertions are lower bounds that follow from the
 * semantics (a nak delay is a minimum), never "fast enough".
 */
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UnavailableError } from '@reflex/model';
import { encodeJson, type Bus, type BusMessage, type Consumer, type StreamConfig } from '../src/index.ts';

export interface BusConformanceOptions {
  /** Removes a stream a test created (the port has no delete; a shared server needs one). */
  deleteStream?: (name: string) => Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** A promise to hold a handler open until the test lets it go. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = (): void => undefined;
  const wait = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { wait, open };
}

interface TestStream {
  name: string;
  subject: (suffix: string) => string;
  config: StreamConfig;
}

export function runBusConformance(name: string, factory: () => Promise<Bus>, options: BusConformanceOptions = {}): void {
  describe(`Bus conformance: ${name}`, () => {
    let bus: Bus;
    let created: string[];
    let consumers: Consumer[];

    beforeEach(async () => {
      bus = await factory();
      created = [];
      consumers = [];
    });

    afterEach(async () => {
      await Promise.all(consumers.map((c) => c.stop()));
      await bus.close();
      for (const stream of created) await options.deleteStream?.(stream);
    });

    async function makeStream(extra: Partial<StreamConfig> = {}): Promise<TestStream> {
      const id = randomUUID().replaceAll('-', '').slice(0, 12);
      const config: StreamConfig = { name: `CONF_${id}`, subjects: [`conf${id}.>`], ...extra };
      await bus.ensureStream(config);
      created.push(config.name);
      return { name: config.name, subject: (suffix) => `conf${id}.${suffix}`, config };
    }

    async function consume(...args: Parameters<Bus['consume']>): Promise<Consumer> {
      const consumer = await bus.consume(...args);
      consumers.push(consumer);
      return consumer;
    }

    const text = (s: string): Uint8Array => new TextEncoder().encode(s);

    it('delivers a published message with its headers, seq and deliveryCount', async () => {
      const s = await makeStream();
      const ack = await bus.publish(s.subject('hello'), encodeJson({ n: 1 }), {
        headers: { 'x-trace-id': 'abc-123', 'Content-Type': 'application/json' },
      });
      expect(ack).toMatchObject({ stream: s.name, duplicate: false });
      expect(ack.seq).toBeGreaterThan(0);
      const got: BusMessage[] = [];
      await consume({ stream: s.name, durable: 'roundtrip' }, async (msg) => {
        got.push(msg);
      });
      await waitFor(() => got.length === 1, 'the message');
      const msg = got[0] as BusMessage;
      expect(msg.subject).toBe(s.subject('hello'));
      expect(msg.json()).toEqual({ n: 1 });
      expect(msg.string()).toBe('{"n":1}');
      expect(msg.headers).toEqual({ 'x-trace-id': 'abc-123', 'Content-Type': 'application/json' });
      expect(msg.seq).toBe(ack.seq);
      expect(msg.deliveryCount).toBe(1);
    });

    it('delivers messages published after the consumer started, in order with concurrency 1', async () => {
      const s = await makeStream();
      const seen: number[] = [];
      await consume({ stream: s.name, durable: 'ordered' }, async (msg) => {
        seen.push(msg.json<{ i: number }>().i);
        await sleep(1);
      });
      for (let i = 0; i < 20; i++) await bus.publish(s.subject('ordered'), encodeJson({ i }));
      await waitFor(() => seen.length === 20, '20 messages');
      expect(seen).toEqual([...Array(20).keys()]);
    });

    it('keeps a message until it is acked: a new consumer of the durable gets what a stopped one left', async () => {
      const s = await makeStream();
      await bus.publish(s.subject('job'), text('work'));
      const hold = gate();
      const first: BusMessage[] = [];
      const a = await bus.consume({ stream: s.name, durable: 'keeper', ackWaitMs: 500 }, async (msg) => {
        first.push(msg);
        await hold.wait;
        throw new Error('crashed mid-work');
      });
      await waitFor(() => first.length === 1, 'the first delivery');
      const stopping = a.stop();
      const second: BusMessage[] = [];
      await consume({ stream: s.name, durable: 'keeper', ackWaitMs: 500 }, async (msg) => {
        second.push(msg);
      });
      await waitFor(() => second.length >= 1, 'the redelivery to the new consumer');
      expect(second[0]?.seq).toBe(first[0]?.seq);
      expect(second[0]?.deliveryCount).toBeGreaterThanOrEqual(2);
      hold.open();
      await stopping;
    });

    it('redelivers a nak at once with deliveryCount 2, and a delayed nak no sooner than asked', async () => {
      const s = await makeStream();
      const seen: Array<{ subject: string; count: number; at: number }> = [];
      await consume({ stream: s.name, durable: 'naker', concurrency: 2 }, async (msg) => {
        seen.push({ subject: msg.subject, count: msg.deliveryCount, at: Date.now() });
        if (msg.deliveryCount === 1) msg.nak(msg.subject.endsWith('later') ? 400 : undefined);
      });
      await bus.publish(s.subject('now'), text('a'));
      await bus.publish(s.subject('later'), text('b'));
      await waitFor(() => seen.length === 4, 'two deliveries of each message');
      const now = seen.filter((d) => d.subject === s.subject('now')).map((d) => d.count);
      const later = seen.filter((d) => d.subject === s.subject('later'));
      expect(now).toEqual([1, 2]);
      expect(later.map((d) => d.count)).toEqual([1, 2]);
      expect((later[1]?.at ?? 0) - (later[0]?.at ?? 0)).toBeGreaterThanOrEqual(350);
    });

    it('redelivers a message not acked within ackWaitMs', async () => {
      const s = await makeStream();
      const seen: number[] = [];
      const hold = gate();
      await consume({ stream: s.name, durable: 'slowpoke', ackWaitMs: 500, concurrency: 2 }, async (msg) => {
        seen.push(msg.deliveryCount);
        if (msg.deliveryCount === 1) await hold.wait;
      });
      await bus.publish(s.subject('slow'), text('x'));
      await waitFor(() => seen.length === 2, 'the redelivery after the ack wait');
      expect(seen).toEqual([1, 2]);
      hold.open();
    });

    it('working() holds the ack timer off', async () => {
      const s = await makeStream();
      const seen: number[] = [];
      let done = false;
      await consume({ stream: s.name, durable: 'busy', ackWaitMs: 800, concurrency: 2 }, async (msg) => {
        seen.push(msg.deliveryCount);
        for (let i = 0; i < 10; i++) {
          await sleep(150);
          msg.working();
        }
        done = true;
      });
      await bus.publish(s.subject('long'), text('x'));
      await waitFor(() => done, 'the long handler', 15_000);
      expect(seen).toEqual([1]);
    });

    it('naks when the handler throws, after nakDelayMs', async () => {
      const s = await makeStream();
      const seen: number[] = [];
      const delays: number[] = [];
      await consume(
        {
          stream: s.name,
          durable: 'thrower',
          nakDelayMs: (count) => {
            delays.push(count);
            return 50;
          },
        },
        async (msg) => {
          seen.push(msg.deliveryCount);
          if (msg.deliveryCount < 3) throw new Error(`attempt ${msg.deliveryCount} failed`);
        },
      );
      await bus.publish(s.subject('flaky'), text('x'));
      await waitFor(() => seen.length === 3, 'three deliveries');
      expect(seen).toEqual([1, 2, 3]);
      expect(delays).toEqual([1, 2]);
    });

    it('does not redeliver after an explicit ack, even if the handler then throws', async () => {
      const s = await makeStream();
      const seen: string[] = [];
      await consume({ stream: s.name, durable: 'acker', nakDelayMs: () => 0 }, async (msg) => {
        seen.push(msg.subject);
        if (msg.subject.endsWith('first')) {
          await msg.ack();
          throw new Error('after the ack');
        }
      });
      await bus.publish(s.subject('first'), text('1'));
      await bus.publish(s.subject('marker'), text('2'));
      await waitFor(() => seen.includes(s.subject('marker')), 'the marker');
      await sleep(200);
      expect(seen).toEqual([s.subject('first'), s.subject('marker')]);
    });

    it('shares a durable between competing consumers: each message handled once, both do work', async () => {
      const s = await makeStream();
      const handled = new Map<number, number>();
      const byConsumer = [0, 0];
      const handler = (which: 0 | 1) => async (msg: BusMessage) => {
        await sleep(1);
        handled.set(msg.seq, (handled.get(msg.seq) ?? 0) + 1);
        byConsumer[which] = (byConsumer[which] ?? 0) + 1;
      };
      await consume({ stream: s.name, durable: 'workers' }, handler(0));
      await consume({ stream: s.name, durable: 'workers' }, handler(1));
      for (let batch = 0; batch < 10; batch++) {
        await Promise.all(
          Array.from({ length: 20 }, (_, i) => bus.publish(s.subject('task'), encodeJson({ i: batch * 20 + i }))),
        );
      }
      await waitFor(() => handled.size === 200, '200 distinct messages', 20_000);
      await sleep(300);
      expect([...handled.values()].every((n) => n === 1)).toBe(true);
      expect((byConsumer[0] ?? 0) + (byConsumer[1] ?? 0)).toBe(200);
      expect(byConsumer[0]).toBeGreaterThan(0);
      expect(byConsumer[1]).toBeGreaterThan(0);
    });

    it('fans out: each durable sees every message', async () => {
      const s = await makeStream();
      const a: number[] = [];
      const b: number[] = [];
      await consume({ stream: s.name, durable: 'fan-a' }, async (msg) => void a.push(msg.seq));
      await consume({ stream: s.name, durable: 'fan-b', concurrency: 3 }, async (msg) => void b.push(msg.seq));
      for (let i = 0; i < 10; i++) await bus.publish(s.subject('fan'), encodeJson({ i }));
      await waitFor(() => a.length === 10 && b.length === 10, 'both durables to see all');
      expect(new Set(a).size).toBe(10);
      expect([...b].sort((x, y) => x - y)).toEqual([...a].sort((x, y) => x - y));
    });

    it('drops a repeated msgId inside the duplicate window', async () => {
      const s = await makeStream({ duplicateWindowMs: 60_000 });
      const first = await bus.publish(s.subject('evt'), text('one'), { msgId: 'evt-1' });
      const again = await bus.publish(s.subject('evt'), text('one again'), { msgId: 'evt-1' });
      expect(first.duplicate).toBe(false);
      expect(again).toEqual({ stream: s.name, seq: first.seq, duplicate: true });
      const other = await bus.publish(s.subject('evt'), text('two'), { msgId: 'evt-2' });
      expect(other.duplicate).toBe(false);
      const seen: string[] = [];
      await consume({ stream: s.name, durable: 'dedup' }, async (msg) => void seen.push(msg.string()));
      await waitFor(() => seen.includes('two'), 'the second event');
      await sleep(100);
      expect(seen).toEqual(['one', 'two']);
    });

    it('gives up after maxDeliver deliveries', async () => {
      const s = await makeStream();
      const poison: number[] = [];
      const seen: string[] = [];
      await consume({ stream: s.name, durable: 'limited', maxDeliver: 3, nakDelayMs: () => 0 }, async (msg) => {
        seen.push(msg.subject);
        if (msg.subject.endsWith('poison')) {
          poison.push(msg.deliveryCount);
          throw new Error('always fails');
        }
      });
      await bus.publish(s.subject('poison'), text('x'));
      await waitFor(() => poison.length === 3, 'three deliveries of the poison message');
      await bus.publish(s.subject('marker'), text('y'));
      await waitFor(() => seen.includes(s.subject('marker')), 'the marker');
      await sleep(300);
      expect(poison).toEqual([1, 2, 3]);
    });

    it('delivers only what filterSubject selects', async () => {
      const s = await makeStream();
      const seen: string[] = [];
      await consume({ stream: s.name, durable: 'filtered', filterSubject: s.subject('a.*') }, async (msg) => {
        seen.push(msg.subject);
      });
      await bus.publish(s.subject('b.1'), text('no'));
      await bus.publish(s.subject('a.1'), text('yes'));
      await bus.publish(s.subject('a.2.deep'), text('no'));
      await bus.publish(s.subject('a.2'), text('yes'));
      await waitFor(() => seen.length === 2, 'the selected messages');
      await sleep(100);
      expect(seen).toEqual([s.subject('a.1'), s.subject('a.2')]);
    });

    it('never redelivers a termed message', async () => {
      const s = await makeStream();
      const seen: string[] = [];
      await consume({ stream: s.name, durable: 'termer', ackWaitMs: 300 }, async (msg) => {
        seen.push(msg.subject);
        if (msg.subject.endsWith('bad')) msg.term();
      });
      await bus.publish(s.subject('bad'), text('x'));
      await bus.publish(s.subject('good'), text('y'));
      await waitFor(() => seen.includes(s.subject('good')), 'the next message');
      await sleep(700);
      expect(seen).toEqual([s.subject('bad'), s.subject('good')]);
    });

    it('runs up to `concurrency` handlers at once, never more', async () => {
      const s = await makeStream();
      const hold = gate();
      let running = 0;
      let peak = 0;
      let finished = 0;
      await consume({ stream: s.name, durable: 'parallel', concurrency: 4 }, async () => {
        running++;
        peak = Math.max(peak, running);
        await hold.wait;
        running--;
        finished++;
      });
      await Promise.all(Array.from({ length: 12 }, (_, i) => bus.publish(s.subject('p'), encodeJson({ i }))));
      await waitFor(() => running === 4, 'four handlers running');
      await sleep(150);
      expect(running).toBe(4);
      hold.open();
      await waitFor(() => finished === 12, 'all handlers');
      expect(peak).toBe(4);
    });

    it('stop() waits for handlers in flight', async () => {
      const s = await makeStream();
      let started = false;
      let finished = false;
      const consumer = await bus.consume({ stream: s.name, durable: 'stopper' }, async () => {
        started = true;
        await sleep(200);
        finished = true;
      });
      await bus.publish(s.subject('x'), text('x'));
      await waitFor(() => started, 'the handler to start');
      await consumer.stop();
      expect(finished).toBe(true);
    });

    it('notify reaches matching subscribers only, until they unsubscribe', async () => {
      const id = randomUUID().replaceAll('-', '').slice(0, 12);
      const got: Array<[string, string]> = [];
      const marker: string[] = [];
      const sub = bus.subscribe(`ctl${id}.*`, (subject, data) => {
        got.push([subject, new TextDecoder().decode(data)]);
      });
      bus.subscribe(`ctl${id}.>`, (subject) => void marker.push(subject));
      await bus.notify(`ctl${id}.reload`, text('rules'));
      await bus.notify(`ctl${id}.deep.nested`, text('not for *'));
      await waitFor(() => got.length === 1 && marker.length === 2, 'the notifications');
      expect(got).toEqual([[`ctl${id}.reload`, 'rules']]);
      sub.unsubscribe();
      await bus.notify(`ctl${id}.reload`, text('again'));
      await waitFor(() => marker.length === 3, 'the marker');
      await sleep(50);
      expect(got).toHaveLength(1);
    });

    it('refuses a subject no stream captures with UnavailableError', async () => {
      await makeStream();
      const id = randomUUID().replaceAll('-', '').slice(0, 12);
      await expect(bus.publish(`nostream${id}.x`, text('x'), { timeoutMs: 2000 })).rejects.toBeInstanceOf(UnavailableError);
    });

    it('refuses a consumer on a missing stream with NOT_FOUND', async () => {
      const id = randomUUID().replaceAll('-', '').slice(0, 12);
      await expect(bus.consume({ stream: `MISSING_${id}`, durable: 'x' }, async () => undefined)).rejects.toMatchObject({
        code: 'NOT_FOUND',
      });
    });

    it('after close: unhealthy, and publish throws UnavailableError', async () => {
      const other = await factory();
      expect(other.healthy()).toBe(true);
      await other.close();
      await other.close();
      expect(other.healthy()).toBe(false);
      await expect(other.publish('conf.closed', text('x'))).rejects.toBeInstanceOf(UnavailableError);
      await expect(other.publish('conf.closed', text('x'))).rejects.toMatchObject({ code: 'UNAVAILABLE' });
      await expect(other.ensureStream({ name: 'CONF_CLOSED', subjects: ['conf.closed'] })).rejects.toBeInstanceOf(
        UnavailableError,
      );
    });

    it('ensureStream is idempotent and updates the config in place', async () => {
      const s = await makeStream({ maxAgeMs: 3_600_000 });
      await bus.ensureStream(s.config);
      const ack = await bus.publish(s.subject('kept'), text('x'));
      await bus.ensureStream(s.config);
      await bus.ensureStream({ ...s.config, maxAgeMs: 7_200_000, duplicateWindowMs: 30_000 });
      const seen: number[] = [];
      await consume({ stream: s.name, durable: 'after-update' }, async (msg) => void seen.push(msg.seq));
      await waitFor(() => seen.length === 1, 'the message kept across the update');
      expect(seen).toEqual([ack.seq]);
    });

    it('refuses bad names and headers with VALIDATION_FAILED', async () => {
      const s = await makeStream();
      await expect(bus.ensureStream({ name: 'bad.name', subjects: ['x.y'] })).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(bus.publish(s.subject('*'), text('x'))).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
      await expect(bus.publish(s.subject('h'), text('x'), { headers: { 'bad:name': 'v' } })).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
      await expect(bus.consume({ stream: s.name, durable: 'a.b' }, async () => undefined)).rejects.toMatchObject({
        code: 'VALIDATION_FAILED',
      });
    });
  });
}
