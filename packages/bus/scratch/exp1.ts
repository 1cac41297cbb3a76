import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, AckPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
const t0 = Date.now();
try { await connect({ servers: 'nats://127.0.0.1:1', timeout: 2000, maxReconnectAttempts: -1 }); } catch (e) { console.log('closed port', Date.now() - t0, (e as Error).name, (e as Error).message); }
const nc = await connect({ servers: 'nats://127.0.0.1:14222' });
const jsm = await jetstreamManager(nc);
const js = jetstream(nc);
await jsm.streams.add({ name: 'S1', subjects: ['s1.>'], max_age: nanos(60000), duplicate_window: nanos(1000) });
const a1 = await jsm.consumers.add('S1', { durable_name: 'd1', ack_policy: AckPolicy.Explicit, ack_wait: nanos(5000), filter_subject: 's1.a' });
console.log('created', a1.config.ack_wait);
try {
const a2 = await jsm.consumers.add('S1', { durable_name: 'd1', ack_policy: AckPolicy.Explicit, ack_wait: nanos(7000), max_deliver: 3, filter_subject: 's1.b' });
console.log('updated via add', a2.config.ack_wait, a2.config.max_deliver, a2.config.filter_subject);
} catch (e) { console.log('add-update err', (e as Error).name, (e as Error).message); }
try { await jsm.streams.add({ name: 'S1', subjects: ['s1.>'], max_age: nanos(60000), duplicate_window: nanos(1000) }); console.log('stream add same ok'); } catch (e) { console.log('same', (e as Error).message); }
try { await jsm.streams.add({ name: 'S1', subjects: ['s1.>'], max_age: nanos(50000), duplicate_window: nanos(1000) }); console.log('stream add diff ok'); } catch (e) { console.log('diff', (e as Error).name, (e as any).code, (e as Error).message); }
try { await jsm.streams.add({ name: 'S2', subjects: ['s1.x'] }); console.log('overlap ok'); } catch (e) { console.log('overlap', (e as Error).name, (e as any).code, (e as Error).message); }
try { await js.publish('nostream.x', new Uint8Array(1)); } catch (e) { console.log('nostream', (e as Error).name, (e as Error).message); }
try { await jsm.consumers.add('NOPE', { durable_name: 'd1', ack_policy: AckPolicy.Explicit }); } catch (e) { console.log('nostream consumer', (e as Error).name, (e as any).code, (e as Error).message); }
await js.publish('s1.b', new TextEncoder().encode('hi'), { msgID: 'x1' });
const c = await js.consumers.get('S1', 'd1');
const m = await c.next({ expires: 2000 });
console.log('got', m?.subject, m?.info.deliveryCount, [...(m?.headers ?? [])]);
const t1 = Date.now();
console.log('ackAck', await m!.ackAck({ timeout: 2000 }), Date.now() - t1);
await jsm.streams.delete('S1');
await nc.close();
