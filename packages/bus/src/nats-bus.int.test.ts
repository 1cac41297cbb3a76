import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { UnavailableError } from '@reflex/model';
import { freePort, startNatsServer } from '../../../test/support/nats-server.ts';
import { runBusConformance, waitFor } from '../test/conformance.ts';
import type { BusMessage } from './bus.ts';
import { createNatsBus } from './nats-bus.ts';

const natsUrl = inject('natsUrl');

let admin: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  admin = await connect({ servers: natsUrl });
  jsm = await jetstreamManager(admin);
});

afterAll(async () => {
  await admin.close();
});

runBusConformance('NATS JetStream', () => createNatsBus({ servers: natsUrl, name: 'bus-conformance' }), {
  deleteStream: async (name) => {
    await jsm.streams.delete(name).catch(() => undefined);
  },
});

describe('NATS bus across connections', () => {
  it('shares a durable between two connections (two processes): each message once, both work', async () => {
    const id = randomUUID().replaceAll('-', '').slice(0, 12);
    const stream = `SHARED_${id}`;
    const one = await createNatsBus({ servers: natsUrl, name: 'replica-1' });
    const two = await createNatsBus({ servers: natsUrl, name: 'replica-2' });
    try {
      await one.ensureStream({ name: stream, subjects: [`shared${id}.>`] });
      await two.ensureStream({ name: stream, subjects: [`shared${id}.>`] });
      const handled = new Map<number, number>();
      const counts = [0, 0];
      const handler = (which: 0 | 1) => async (msg: BusMessage) => {
        await new Promise((r) => setTimeout(r, 1));
        handled.set(msg.seq, (handled.get(msg.seq) ?? 0) + 1);
        counts[which] = (counts[which] ?? 0) + 1;
      };
      await one.consume({ stream, durable: 'replicas', concurrency: 2 }, handler(0));
      await two.consume({ stream, durable: 'replicas', concurrency: 2 }, handler(1));
      for (let i = 0; i < 100; i++) await (i % 2 === 0 ? one : two).publish(`shared${id}.job`, new Uint8Array([i]));
      await waitFor(() => handled.size === 100, '100 messages');
      await new Promise((r) => setTimeout(r, 200));
      expect([...handled.values()].every((n) => n === 1)).toBe(true);
      expect(counts[0]).toBeGreaterThan(0);
      expect(counts[1]).toBeGreaterThan(0);
    } finally {
      await one.close();
      await two.close();
      await jsm.streams.delete(stream).catch(() => undefined);
    }
  });
});

describe('NATS bus when the server is gone', () => {
  it('fails to connect to a closed port with UnavailableError', async () => {
    const port = await freePort();
    const started = Date.now();
    await expect(createNatsBus({ servers: `nats://127.0.0.1:${port}`, connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(
      UnavailableError,
    );
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('closes at once while the server is down', async () => {
    const server = await startNatsServer();
    const bus = await createNatsBus({ servers: server.url });
    try {
      await bus.ensureStream({ name: 'GONE', subjects: ['gone.>'] });
      await bus.consume({ stream: 'GONE', durable: 'd' }, async () => undefined);
    } finally {
      await server.stop();
    }
    await waitFor(() => !bus.healthy(), 'the bus to notice the server is gone');
    const started = Date.now();
    await bus.close();
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(bus.publish('gone.x', new Uint8Array())).rejects.toBeInstanceOf(UnavailableError);
  });

  it('refuses publishes while the server is down and carries on after it restarts', async () => {
    const storeDir = mkdtempSync(join(tmpdir(), 'reflex-nats-restart-'));
    let server = await startNatsServer({ storeDir });
    const port = server.port;
    const bus = await createNatsBus({ servers: server.url, reconnectWaitMs: 200 });
    try {
      await bus.ensureStream({ name: 'RESTART', subjects: ['restart.>'] });
      const seen: string[] = [];
      const consumer = await bus.consume({ stream: 'RESTART', durable: 'survivor' }, async (msg) => {
        seen.push(msg.string());
      });
      await bus.publish('restart.x', new TextEncoder().encode('before'));
      await waitFor(() => seen.length === 1, 'the message before the restart');
      expect(bus.healthy()).toBe(true);

      await server.stop();
      await waitFor(() => !bus.healthy(), 'the bus to notice the server is gone');
      const started = Date.now();
      await expect(bus.publish('restart.x', new TextEncoder().encode('lost'), { timeoutMs: 1000 })).rejects.toBeInstanceOf(
        UnavailableError,
      );
      expect(Date.now() - started).toBeLessThan(5000);

      server = await startNatsServer({ port, storeDir });
      await waitFor(() => bus.healthy(), 'the bus to reconnect', 20_000);
      let published = false;
      await waitFor(
        () => {
          if (!published) {
            bus.publish('restart.x', new TextEncoder().encode('after'), { msgId: 'after-1', timeoutMs: 1000 }).then(
              () => {
                published = true;
              },
              () => undefined,
            );
          }
          return seen.includes('after');
        },
        'the consumer to get a message published after the restart',
        20_000,
      );
      expect(seen).toEqual(['before', 'after']);
      await consumer.stop();
    } finally {
      await bus.close();
      await server.stop();
      rmSync(storeDir, { recursive: true, force: true });
    }
  });
});
