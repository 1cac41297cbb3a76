/**
 * Execution routes without a runner: cancel, re-run, secret masking and the output endpoint.
 * (Running attempts, SSE streaming and cancel of a live process are covered end to end.)
 */
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newSecretsKey } from '@reflex/auth';
import { createEmbeddedBus, type Bus } from '@reflex/bus';
import { busNames, type Action } from '@reflex/model';
import { discoverPacks, registerPacks } from '@reflex/packs';
import { ensureStreams } from '@reflex/runtime';
import { createSqliteStore, type Store } from '@reflex/store';
import { buildApi } from './app.ts';
import { MASK } from './secrets.ts';

const PACKS = fileURLToPath(new URL('../../../packs', import.meta.url));

const deploy: Action = {
  ref: 'ops.deploy',
  pack: 'ops',
  name: 'deploy',
  enabled: true,
  runner: 'noop',
  parametersSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['service'],
    properties: { service: { type: 'string' }, token: { type: 'string', secret: true }, replicas: { type: 'integer', default: 2 } },
  },
};

describe('execution routes', () => {
  let store: Store;
  let bus: Bus;
  let app: FastifyInstance;

  beforeEach(async () => {
    store = await createSqliteStore({ path: ':memory:' });
    bus = await createEmbeddedBus();
    const names = busNames('exectest');
    await ensureStreams(bus, names);
    await registerPacks(store, await discoverPacks([PACKS]));
    await store.actions.upsert(deploy);
    app = await buildApi({ store, bus, names, logger: pino({ level: 'silent' }), packsPaths: [PACKS], bodyLimitBytes: 1 << 20, auth: { enabled: false, secretsKey: newSecretsKey() } });
  });

  afterEach(async () => {
    await app.close();
    await bus.close();
    await store.close();
  });

  const run = async (parameters: Record<string, unknown>) => {
    const res = await app.inject({ method: 'POST', url: '/v1/executions', payload: { action: 'ops.deploy', parameters } });
    expect(res.statusCode).toBe(201);
    return res.json() as { id: string; parameters: Record<string, unknown>; status: string; rerunOf?: string };
  };

  it('masks secret parameters in every answer but keeps them for the runner', async () => {
    const created = await run({ service: 'web', token: 's3cr3t-value' });
    expect(created.parameters).toEqual({ service: 'web', token: MASK, replicas: 2 });
    expect((await app.inject({ url: `/v1/executions/${created.id}` })).json().parameters.token).toBe(MASK);
    const list = (await app.inject({ url: '/v1/executions?action=ops.deploy' })).body;
    expect(list).not.toContain('s3cr3t-value');
    expect((await store.executions.get(created.id))?.parameters['token']).toBe('s3cr3t-value');
  });

  it('cancels a waiting execution at once, and refuses to cancel it twice', async () => {
    const created = await run({ service: 'web' });
    const canceled = await app.inject({ method: 'DELETE', url: `/v1/executions/${created.id}` });
    expect(canceled.statusCode).toBe(202);
    expect(canceled.json().status).toBe('canceled');
    expect(canceled.json().history.map((h: { status: string }) => h.status)).toEqual(['requested', 'canceled']);
    const again = await app.inject({ method: 'DELETE', url: `/v1/executions/${created.id}` });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ALREADY_FINISHED');
    expect((await app.inject({ method: 'DELETE', url: '/v1/executions/nope' })).statusCode).toBe(404);
  });

  it('marks a running execution canceling (its runner stops it)', async () => {
    const created = await run({ service: 'web' });
    await store.executions.transition(created.id, 'running', { attempt: 1 });
    const res = await app.inject({ method: 'DELETE', url: `/v1/executions/${created.id}` });
    expect(res.statusCode).toBe(202);
    expect(res.json().status).toBe('canceling');
  });

  it('re-runs with the same parameters, or some replaced, linked to the original', async () => {
    const original = await run({ service: 'web', token: 'tok', replicas: 3 });
    const same = await app.inject({ method: 'POST', url: `/v1/executions/${original.id}/re-run` });
    expect(same.statusCode).toBe(201);
    expect(same.json()).toMatchObject({ rerunOf: original.id, status: 'requested' });
    expect(same.json().id).not.toBe(original.id);
    expect((await store.executions.get(same.json().id))?.parameters).toEqual({ service: 'web', token: 'tok', replicas: 3 });
    const changed = await app.inject({ method: 'POST', url: `/v1/executions/${original.id}/re-run`, payload: { parameters: { replicas: 5 } } });
    expect((await store.executions.get(changed.json().id))?.parameters).toEqual({ service: 'web', token: 'tok', replicas: 5 });
    const bad = await app.inject({ method: 'POST', url: `/v1/executions/${original.id}/re-run`, payload: { parameters: { replicas: 'many' } } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.map((d: { field: string }) => d.field)).toContain('body.parameters.replicas');
    expect((await app.inject({ method: 'POST', url: '/v1/executions/nope/re-run' })).statusCode).toBe(404);
  });

  it('answers the output so far as JSON to a non-SSE client', async () => {
    const created = await run({ service: 'web' });
    await store.outputs.append(created.id, [{ seq: 1, stream: 'stdout', text: 'hello', at: new Date().toISOString() }]);
    const res = await app.inject({ url: `/v1/executions/${created.id}/output`, headers: { accept: 'application/json' } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ status: 'requested', items: [{ seq: 1, stream: 'stdout', text: 'hello' }] });
  });
});
