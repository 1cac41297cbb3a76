/**
 * Datastore keys in parameter templates, through the real engine on the embedded bus and a SQLite
 * store: values reach the action, secrets reach the runner in full but are masked in the stored
 * execution, a write announced on control.keys is seen by the next event, and a key that is
 * missing or a secret that cannot be opened fails the enforcement with the reason.
 */
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newSecretsKey, sealKeyValue } from '@reflex/auth';
import { createEmbeddedBus, encodeJson, type Bus, type Consumer } from '@reflex/bus';
import { busNames, newId, SECRET_MASK, type ExecutionRequest, type JsonObject, type ReflexEvent, type Rule } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { ensureStreams, publishEvent, type ServiceHandle } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { waitFor } from '../../../test/support/wait.ts';
import { startRulesEngine } from './engine.ts';

const PACKS = fileURLToPath(new URL('../../../packs', import.meta.url));

function rule(name: string, parameters: JsonObject, ref = 'core.echo'): Rule {
  const now = new Date().toISOString();
  return {
    ref: `ops.${name}`,
    pack: 'ops',
    name,
    enabled: true,
    trigger: { type: 'core.webhook', parameters: { url: name } },
    action: { ref, parameters },
    source: 'api',
    createdAt: now,
    updatedAt: now,
  };
}

function event(url: string, body: JsonObject = {}): ReflexEvent {
  return {
    id: newId(),
    type: 'core.webhook',
    triggerParameters: { url },
    source: 'test',
    payload: { body, headers: {}, query: {} },
    occurredAt: new Date().toISOString(),
    traceId: 'trace-kv',
  };
}

describe('datastore keys in templates, through the engine', () => {
  const secretsKey = newSecretsKey();
  let names: ReturnType<typeof busNames>;
  let store: Store;
  let bus: Bus;
  let engine: ServiceHandle | undefined;
  let requests: ExecutionRequest[];
  let observer: Consumer;

  beforeEach(async () => {
    names = busNames(`kvtest${newId().slice(-6).toLowerCase()}`);
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    await ensureStreams(bus, names);
    await registerPacks(store, await discoverPacks([PACKS]));
    requests = [];
    observer = await bus.consume({ stream: names.executionsStream, durable: 'observer' }, async (msg) => {
      requests.push(msg.json<ExecutionRequest>());
    });
  });

  afterEach(async () => {
    await engine?.stop();
    engine = undefined;
    await observer.stop();
    await bus.close();
    await store.close();
  });

  const fire = async (url: string, body: JsonObject = {}) => {
    const e = event(url, body);
    await publishEvent(bus, names, e);
    const [enforcement] = await waitFor(async () => {
      const list = await store.enforcements.listByEvent(e.id);
      return list.length > 0 ? list : undefined;
    }, `the enforcement of ${url}`);
    const execution = enforcement?.executionId === undefined ? null : await store.executions.get(enforcement.executionId);
    const request =
      execution === null ? undefined : await waitFor(async () => requests.find((r) => r.executionId === execution.id), 'the execution request');
    return { enforcement, execution, request };
  };

  it('renders system and pack keys of any type, and masks secrets only in what is stored', async () => {
    await store.keys.put({ scope: 'system', name: 'oncall', value: 'ana' });
    await store.keys.put({ scope: 'pack:ops', name: 'limits', value: { disk: 90 } });
    await store.keys.put({ scope: 'pack:other', name: 'limits', value: { disk: 10 } });
    await store.keys.put({ scope: 'system', name: 'token', value: sealKeyValue(secretsKey, 'system', 'token', 'tok-s3cret-123'), secret: true });
    await store.rules.insert(
      rule('page', { message: 'page {{ kv.system.oncall }} over {{ kv.pack.limits.disk }}% for {{ payload.body.host }} with {{ kv.system.token }}' }),
    );
    await store.rules.insert(rule('typed', { url: 'https://example.com', headers: { authorization: 'Bearer {{ kv.system.token }}' }, timeout: '{{ kv.pack.limits.disk }}' }, 'core.http'));
    engine = await startRulesEngine({ bus, store, names, logger: pino({ level: 'silent' }), secretsKey });

    const page = await fire('page', { host: 'db1' });
    expect(page.enforcement?.status).toBe('fired');
    expect(page.request?.parameters).toEqual({ message: 'page ana over 90% for db1 with tok-s3cret-123' });
    expect(page.execution?.parameters).toEqual({ message: `page ana over 90% for db1 with ${SECRET_MASK}` });
    expect(page.execution?.maskedParameters).toEqual(['message']);
    // The runner gets the secrets too, to mask whatever it keeps (result, error, output).
    expect(page.request?.secrets).toEqual(['tok-s3cret-123']);

    const typed = await fire('typed');
    expect(typed.request?.parameters).toMatchObject({ headers: { authorization: 'Bearer tok-s3cret-123' }, timeout: 90 });
    expect(typed.execution?.parameters).toMatchObject({ headers: { authorization: `Bearer ${SECRET_MASK}` }, timeout: 90, url: 'https://example.com' });
    expect(typed.execution?.maskedParameters).toEqual(['headers']);
    expect(JSON.stringify(await store.executions.list({}))).not.toContain('tok-s3cret-123');
    expect(JSON.stringify(await store.enforcements.listByEvent(typed.enforcement?.eventId ?? ''))).not.toContain('tok-s3cret-123');
  });

  it('sees a changed key on the next event once the write is announced', async () => {
    await store.keys.put({ scope: 'system', name: 'oncall', value: 'ana' });
    await store.rules.insert(rule('who', { message: '{{ kv.system.oncall }}' }));
    engine = await startRulesEngine({ bus, store, names, logger: pino({ level: 'silent' }), secretsKey });
    const first = await fire('who');
    expect(first.request?.parameters).toEqual({ message: 'ana' });
    expect(first.request?.secrets).toBeUndefined();
    expect(first.execution?.maskedParameters).toBeUndefined();
    await store.keys.put({ scope: 'system', name: 'oncall', value: 'bo' });
    // Without a notice the cached value stands (for up to 10 s) ...
    expect((await fire('who')).request?.parameters).toEqual({ message: 'ana' });
    // ... and the API's notice drops it.
    await bus.notify(names.controlSubject('keys'), encodeJson({ topic: 'keys', op: 'update', ref: 'system/oncall' }));
    await new Promise((r) => setTimeout(r, 50));
    expect((await fire('who')).request?.parameters).toEqual({ message: 'bo' });
  });

  it('fails the enforcement, naming the reason, for a missing key or a secret it cannot open', async () => {
    await store.keys.put({ scope: 'system', name: 'token', value: sealKeyValue(newSecretsKey(), 'system', 'token', 'other-key-s3cret'), secret: true });
    await store.rules.insert(rule('missing', { message: '{{ kv.system.nobody }}' }));
    await store.rules.insert(rule('fallback', { message: '{{ kv.system.nobody | default: "n/a" }}' }));
    await store.rules.insert(rule('sealed', { message: '{{ kv.system.token }}' }));
    engine = await startRulesEngine({ bus, store, names, logger: pino({ level: 'silent' }), secretsKey });

    const missing = await fire('missing');
    expect(missing.enforcement?.status).toBe('failed');
    expect(missing.enforcement?.error?.message).toContain('kv.system.nobody');
    expect((await fire('fallback')).request?.parameters).toEqual({ message: 'n/a' });
    const sealed = await fire('sealed');
    expect(sealed.enforcement?.status).toBe('failed');
    expect(sealed.enforcement?.error).toMatchObject({ code: 'SECRET_UNREADABLE' });
    expect(sealed.enforcement?.error?.message).toContain("'system/token'");
  });

  it('fails a rule that reads a secret when the engine has no secrets key', async () => {
    await store.keys.put({ scope: 'system', name: 'token', value: sealKeyValue(secretsKey, 'system', 'token', 'x-s3cret'), secret: true });
    await store.rules.insert(rule('nokey', { message: '{{ kv.system.token }}' }));
    engine = await startRulesEngine({ bus, store, names, logger: pino({ level: 'silent' }) });
    const { enforcement } = await fire('nokey');
    expect(enforcement?.status).toBe('failed');
    expect(enforcement?.error?.message).toContain('no secrets key');
  });
});
