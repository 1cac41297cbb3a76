import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { UnavailableError } from '@reflex/model';
import { freePort, startNatsServer } from '../../../test/support/nats-server.ts';
import { runBusConformance, waitFor } from '../test/conformance.ts';
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
