/**
 * `ctx.kv` of a `nodejs` action from end to end, in one embedded process: the action reads values
 * set through the API in its pack's scope (a secret among them, opened), writes one that the store
 * and the API then show, with its TTL, and the write is announced on the bus. The secret it read
 * never shows in the stored execution: result, output and error read `********` in its place.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJson, type Subscription } from '@reflex/bus';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import { SECRET_MASK, type Execution } from '@reflex/model';
import { loadConfig, namesOf, type ChangeNotice } from '@reflex/runtime';
import { adminKeyOf, apiClient } from '../support/api-client.ts';
import { waitFor } from '../support/wait.ts';

const PACK = 'kvdemo';
const SCOPE = `pack:${PACK}`;
const TOKEN = 's3cret-kv-token-7f2';

function writePack(root: string): void {
  const dir = join(root, PACK);
  mkdirSync(join(dir, 'actions'), { recursive: true });
  writeFileSync(join(dir, 'pack.yaml'), `name: ${PACK}\nversion: 1.0.0\n`);
  writeFileSync(join(dir, 'actions', 'tally.yaml'), 'name: tally\nrunner_type: nodejs\nentry_point: tally.ts\nparameters:\n  tag: { type: string, required: true }\n');
  writeFileSync(
    join(dir, 'actions', 'tally.ts'),
    `import type { ActionContext } from '@reflex/runners';
export default async function tally(params: { tag: string }, ctx: ActionContext) {
  const threshold = await ctx.kv.get('threshold');
  const token = await ctx.kv.get('token');
  console.log('calling out with token ' + String(token));
  ctx.logger.warn({ token }, 'the token as an object');
  await ctx.kv.put('last_tag', params.tag, { ttlSeconds: 3600 });
  const removed = await ctx.kv.delete('stale');
  return { threshold, removed, token, header: 'Bearer ' + String(token), tokenLength: String(token).length };
}
`,
  );
  writeFileSync(join(dir, 'actions', 'leak.yaml'), 'name: leak\nrunner_type: nodejs\nentry_point: leak.ts\n');
  writeFileSync(
    join(dir, 'actions', 'leak.ts'),
    `export default async function leak(_params: unknown, ctx: { kv: { get(name: string): Promise<unknown> } }) {
  const token = await ctx.kv.get('token');
  throw new Error('the service refused token ' + String(token));
}
`,
  );
}

describe('nodejs actions read and write their pack datastore scope, embedded', () => {
  let dataDir: string;
  let reflex: Launched;
  let api: ReturnType<typeof apiClient>;
  let subscription: Subscription;
  const notices: ChangeNotice[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'reflex-e2e-actionkv-'));
    const packs = join(dataDir, 'packs');
    writePack(packs);
    const config = loadConfig({}, { port: 0, dataDir, packsPaths: [packs], logLevel: 'silent' });
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'silent' }));
    api = apiClient(reflex.url ?? '', adminKeyOf(dataDir));
    subscription = reflex.bus.subscribe(namesOf(config).controlSubject('keys'), (_subject, data) => notices.push(decodeJson<ChangeNotice>(data)));
    for (const [name, body] of [
      ['threshold', { value: 90 }],
      ['token', { value: TOKEN, secret: true }],
      ['stale', { value: 'old' }],
    ] as const) {
      const put = await api.put(`/v1/keys/${SCOPE}/${name}`, body);
      expect(put.status, name).toBe(201);
    }
  });

  afterAll(async () => {
    subscription?.unsubscribe();
    await reflex?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = async (action: string, parameters: Record<string, unknown>): Promise<Execution> => {
    const started = await api.post<{ id: string }>('/v1/executions', { action: `${PACK}.${action}`, parameters });
    expect(started.status).toBe(201);
    return await waitFor(async () => {
      const got = await reflex.store.executions.get(started.body.id);
      return got !== null && ['succeeded', 'failed'].includes(got.status) ? got : undefined;
    }, 'the execution to finish');
  };

  /** Everything stored or served about an execution, as text. */
  const everything = async (id: string): Promise<string> => {
    const stored = JSON.stringify([await reflex.store.executions.get(id), await reflex.store.outputs.list(id)]);
    const served = JSON.stringify([(await api.get(`/v1/executions/${id}`)).body, (await api.get(`/v1/executions/${id}/output`)).body]);
    return `${stored}\n${served}`;
  };

  it('reads values and an opened secret, writes and deletes; the store, the API and the bus see it', async () => {
    const execution = await run('tally', { tag: 'deploy-42' });
    expect(execution.status, JSON.stringify(execution.error)).toBe('succeeded');
    // The secret reached the action (its length is right) but is masked in what was stored.
    expect(execution.result).toEqual({ threshold: 90, removed: true, token: SECRET_MASK, header: `Bearer ${SECRET_MASK}`, tokenLength: TOKEN.length });

    const written = await reflex.store.keys.get(SCOPE, 'last_tag');
    expect(written).toMatchObject({ value: 'deploy-42' });
    expect(written?.secret).not.toBe(true);
    const ttlMs = Date.parse(written?.expiresAt ?? '') - Date.now();
    expect(ttlMs).toBeGreaterThan(3500 * 1000);
    expect(ttlMs).toBeLessThanOrEqual(3600 * 1000);
    expect(await reflex.store.keys.get(SCOPE, 'stale')).toBeNull();
    expect((await api.get<{ value: unknown }>(`/v1/keys/${SCOPE}/last_tag`)).body).toMatchObject({ value: 'deploy-42' });

    await waitFor(async () => (notices.some((n) => n.ref === `${SCOPE}/stale` && n.op === 'delete') ? true : undefined), 'the delete to be announced');
    expect(notices).toContainEqual({ topic: 'keys', op: 'update', ref: `${SCOPE}/last_tag` });

    const output = await reflex.store.outputs.list(execution.id);
    expect(output.map((c) => c.text)).toContain(`calling out with token ${SECRET_MASK}`);
    expect(output.some((c) => c.stream === 'stderr' && c.text.includes(SECRET_MASK))).toBe(true);
    expect(await everything(execution.id)).not.toContain(TOKEN);
  });

  it('masks a secret the action read in the error it failed with', async () => {
    const execution = await run('leak', {});
    expect(execution.status).toBe('failed');
    expect(execution.error?.message).toContain(`the service refused token ${SECRET_MASK}`);
    expect(await everything(execution.id)).not.toContain(TOKEN);
  });
});
