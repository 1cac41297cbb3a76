import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { UnavailableError } from '@reflex/model';
import { runBusConformance, waitFor } from '../test/conformance.ts';
import type { BusMessage } from './bus.ts';
import { createEmbeddedBus } from './embedded-bus.ts';

const dir = mkdtempSync(join(tmpdir(), 'reflex-bus-'));
let files = 0;
const nextPath = (): string => join(dir, `bus-${++files}.sqlite`);

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

runBusConformance('embedded, in memory', () => createEmbeddedBus());
runBusConformance('embedded, SQLite file', () => createEmbeddedBus({ path: nextPath() }));

describe('embedded bus on a SQLite file', () => {
  const stream = { name: 'JOBS', subjects: ['jobs.>'] };

  it('keeps unacked messages across a restart, acked ones not', async () => {
    const path = nextPath();
    const first = await createEmbeddedBus({ path });
    await first.ensureStream(stream);
    await first.publish('jobs.a', new TextEncoder().encode('acked'));
    await first.publish('jobs.b', new TextEncoder().encode('never consumed'), { headers: { 'x-id': 'b' } });
    const seen: string[] = [];
    const consumer = await first.consume({ stream: 'JOBS', durable: 'worker', filterSubject: 'jobs.a' }, async (msg) => {
      seen.push(msg.string());
    });
    await waitFor(() => seen.length === 1, 'the first message');
    await consumer.stop();
    await first.close();

    const second = await createEmbeddedBus({ path });
    const after: BusMessage[] = [];
    await second.consume({ stream: 'JOBS', durable: 'worker' }, async (msg) => void after.push(msg));
    await waitFor(() => after.length === 1, 'the unacked message after reopening');
    await new Promise((r) => setTimeout(r, 100));
    expect(after.map((m) => [m.string(), m.headers, m.deliveryCount])).toEqual([['never consumed', { 'x-id': 'b' }, 1]]);
    await second.close();
  });

  it('redelivers a message that was in flight at close, counting the earlier delivery', async () => {
    const path = nextPath();
    const first = await createEmbeddedBus({ path });
    await first.ensureStream(stream);
    const ack = await first.publish('jobs.x', new TextEncoder().encode('x'));
    let got = 0;
    await first.consume({ stream: 'JOBS', durable: 'worker' }, async (msg) => {
      got++;
      msg.nak(60_000); // would wait a minute; the restart must not lose it
    });
    await waitFor(() => got === 1, 'the first delivery');
    await first.close();

    const second = await createEmbeddedBus({ path });
    const after: BusMessage[] = [];
    await second.consume({ stream: 'JOBS', durable: 'worker' }, async (msg) => void after.push(msg));
    await waitFor(() => after.length === 1, 'the redelivery after reopening');
    expect(after[0]?.seq).toBe(ack.seq);
    expect(after[0]?.deliveryCount).toBe(2);
    await second.close();

    const third = await createEmbeddedBus({ path });
    const never: BusMessage[] = [];
    await third.consume({ stream: 'JOBS', durable: 'worker' }, async (msg) => void never.push(msg));
    const next = await third.publish('jobs.y', new TextEncoder().encode('y'));
    expect(next.seq).toBeGreaterThan(ack.seq);
    await waitFor(() => never.length === 1, 'the new message');
    expect(never.map((m) => m.string())).toEqual(['y']);
    await third.close();
  });

  it('remembers msgIds across a restart', async () => {
    const path = nextPath();
    const first = await createEmbeddedBus({ path });
    await first.ensureStream(stream);
    const original = await first.publish('jobs.e', new TextEncoder().encode('e'), { msgId: 'event-1' });
    await first.close();
    const second = await createEmbeddedBus({ path });
    const again = await second.publish('jobs.e', new TextEncoder().encode('e'), { msgId: 'event-1' });
    expect(again).toEqual({ stream: 'JOBS', seq: original.seq, duplicate: true });
    await second.close();
  });

  it('refuses a second owner of the same file', async () => {
    const path = nextPath();
    const owner = await createEmbeddedBus({ path });
    await expect(createEmbeddedBus({ path })).rejects.toBeInstanceOf(UnavailableError);
    await owner.close();
  });
});

describe('embedded bus retention', () => {
  it('drops messages older than maxAgeMs', async () => {
    const bus = await createEmbeddedBus({ sweepIntervalMs: 50 });
    await bus.ensureStream({ name: 'AGED', subjects: ['aged.>'], maxAgeMs: 200 });
    await bus.publish('aged.old', new TextEncoder().encode('old'));
    await new Promise((r) => setTimeout(r, 400));
    await bus.publish('aged.new', new TextEncoder().encode('new'));
    const seen: string[] = [];
    await bus.consume({ stream: 'AGED', durable: 'late' }, async (msg) => void seen.push(msg.string()));
    await waitFor(() => seen.length === 1, 'the fresh message');
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(['new']);
    await bus.close();
  });

  it('forgets a msgId after the duplicate window', async () => {
    const bus = await createEmbeddedBus();
    await bus.ensureStream({ name: 'DUP', subjects: ['dup.>'], duplicateWindowMs: 100 });
    const a = await bus.publish('dup.x', new Uint8Array([1]), { msgId: 'same' });
    await new Promise((r) => setTimeout(r, 200));
    const b = await bus.publish('dup.x', new Uint8Array([1]), { msgId: 'same' });
    expect(b.duplicate).toBe(false);
    expect(b.seq).toBe(a.seq + 1);
    await bus.close();
  });

  it('refuses streams whose subjects overlap', async () => {
    const bus = await createEmbeddedBus();
    await bus.ensureStream({ name: 'ONE', subjects: ['a.>'] });
    await expect(bus.ensureStream({ name: 'TWO', subjects: ['a.b'] })).rejects.toMatchObject({ code: 'STREAM_SUBJECTS_OVERLAP' });
    await bus.close();
  });
});
