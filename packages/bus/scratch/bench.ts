import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createEmbeddedBus } from '../src/index.ts';

async function run(label: string, path: string | undefined, withConsumer: boolean) {
  const bus = await createEmbeddedBus(path === undefined ? {} : { path });
  await bus.ensureStream({ name: 'B', subjects: ['b.>'] });
  let consumed = 0;
  if (withConsumer) await bus.consume({ stream: 'B', durable: 'w', concurrency: 16 }, async () => { consumed++; });
  const data = new TextEncoder().encode(JSON.stringify({ id: 'x'.repeat(26), payload: { a: 1, b: 'hello world' } }));
  const N = 100_000;
  // 64 concurrent publishers, each awaiting its own publish (like webhook requests)
  const t0 = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: 64 }, async () => {
    while (next < N) { const i = next++; await bus.publish('b.evt', data, { msgId: `m${i}` }); }
  }));
  const t1 = performance.now();
  // sequential single publisher
  const M = 10_000;
  for (let i = 0; i < M; i++) await bus.publish('b.seq', data);
  const t2 = performance.now();
  if (withConsumer) { while (consumed < N + M) await new Promise((r) => setTimeout(r, 5)); }
  const t3 = performance.now();
  console.log(label, 'concurrent pub/s', Math.round(N / ((t1 - t0) / 1000)), 'sequential pub/s', Math.round(M / ((t2 - t1) / 1000)), withConsumer ? `all consumed after ${Math.round(t3 - t0)}ms (${Math.round((N+M)/((t3-t0)/1000))}/s)` : '');
  await bus.close();
}
const dir = mkdtempSync(join(tmpdir(), 'bench-'));
await run('memory', undefined, false);
await run('memory+consumer', undefined, true);
await run('sqlite', join(dir, 'a.db'), false);
await run('sqlite+consumer', join(dir, 'b.db'), true);
rmSync(dir, { recursive: true });
