/**
 * `ctx.kv` of a `nodejs` action: calls cross from the action's process to the runner over IPC and
 * are answered by the `kv` the runner was given (here an in-memory map standing in for the
 * worker's pack scope); failures come back as errors carrying their code.
 */
import { ReflexError, type JsonObject, type JsonValue, type PackKvRequest } from '@reflex/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionFailedError } from './errors.ts';
import { createNodeRunner, KV_UNAVAILABLE } from './node.ts';
import { context, request, tempDir, type TempDir } from './test-helpers.ts';

const runner = createNodeRunner();
let pack: TempDir;

const ACTIONS: Record<string, string> = {
  'actions/round-trip.ts': `
    import type { ActionContext } from '@reflex/runners';
    export default async (_params: unknown, ctx: ActionContext) => {
      const before = await ctx.kv.get('counter');
      await ctx.kv.put('counter', Number(before ?? 0) + 1, { ttlSeconds: 60 });
      const after = await ctx.kv.get('counter');
      const both = await Promise.all([ctx.kv.get('a'), ctx.kv.get('b'), ctx.kv.get('missing')]);
      const deleted = await ctx.kv.delete('gone');
      const deletedAgain = await ctx.kv.delete('gone');
      await ctx.kv.put('note', { from: ctx.action, tags: ['x'] });
      return { before, after, both, deleted, deletedAgain };
    };
  `,
  'actions/caught.ts': `
    import type { ActionContext } from '@reflex/runners';
    export default async (params: { name: string }, ctx: ActionContext) => {
      try {
        await ctx.kv.get(params.name);
        return { ok: true };
      } catch (err) {
        const e = err as Error & { code?: string };
        return { isError: err instanceof Error, name: e.name, code: e.code ?? null, message: e.message };
      }
    };
  `,
  'actions/uncaught.ts': `
    import type { ActionContext } from '@reflex/runners';
    export default async (_params: unknown, ctx: ActionContext) => await ctx.kv.get('boom');
  `,
  'actions/not-json.ts': `
    import type { ActionContext } from '@reflex/runners';
    export default async (_params: unknown, ctx: ActionContext) => {
      try {
        await ctx.kv.put('big', 10n as never);
        return 'stored';
      } catch (err) {
        return (err as Error).message;
      }
    };
  `,
};

/** A pack scope in memory; the key `boom` fails like a store that is down. */
function memoryKv(initial: Record<string, JsonValue> = {}): { kv: (r: PackKvRequest) => Promise<JsonValue>; map: Map<string, JsonValue>; requests: PackKvRequest[] } {
  const map = new Map(Object.entries(initial));
  const requests: PackKvRequest[] = [];
  const kv = async (r: PackKvRequest): Promise<JsonValue> => {
    requests.push(r);
    if (r.name === 'boom') throw new ReflexError('KV_BROKEN', 'the datastore is down');
    if (r.op === 'get') return map.get(r.name) ?? null;
    if (r.op === 'put') {
      map.set(r.name, r.value);
      return null;
    }
    return map.delete(r.name);
  };
  return { kv, map, requests };
}

beforeAll(async () => {
  pack = await tempDir('reflex-node-kv-test-');
  await pack.write(ACTIONS);
});

afterAll(async () => {
  await pack[Symbol.asyncDispose]();
});

const run = (entryPoint: string, parameters: JsonObject, kv?: (r: PackKvRequest) => Promise<JsonValue>) =>
  runner.run(request('nodejs', parameters, { entryPoint }), context({ packDir: pack.path, ...(kv === undefined ? {} : { kv }) }));

describe('nodejs ctx.kv', () => {
  it('gets, puts and deletes through the injected kv, concurrent calls answered by id', async () => {
    const store = memoryKv({ counter: 41, a: 'A', b: { deep: [1, 2] }, gone: true });
    const result = await run('actions/round-trip.ts', {}, store.kv);
    expect(result).toEqual({ before: 41, after: 42, both: ['A', { deep: [1, 2] }, null], deleted: true, deletedAgain: false });
    expect(store.map.get('counter')).toBe(42);
    expect(store.map.has('gone')).toBe(false);
    expect(store.map.get('note')).toEqual({ from: 'test.nodejs', tags: ['x'] });
    // The runner hands over the request alone (no message id or type), TTL included.
    expect(store.requests).toContainEqual({ op: 'put', name: 'counter', value: 42, ttlSeconds: 60 });
    expect(store.requests).toContainEqual({ op: 'put', name: 'note', value: { from: 'test.nodejs', tags: ['x'] } });
    expect(store.requests.filter((r) => r.op === 'get').map((r) => r.name).sort()).toEqual(['a', 'b', 'counter', 'counter', 'missing']);
  });

  it('rejects in the action with an Error carrying the code of what the kv threw', async () => {
    const store = memoryKv();
    expect(await run('actions/caught.ts', { name: 'boom' }, store.kv)).toEqual({ isError: true, name: 'ReflexError', code: 'KV_BROKEN', message: 'the datastore is down' });
  });

  it('fails the execution with that code when the action does not catch it', async () => {
    const failure = await run('actions/uncaught.ts', {}, memoryKv().kv).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ActionFailedError);
    expect(failure).toMatchObject({ code: 'KV_BROKEN', message: 'ReflexError: the datastore is down' });
  });

  it('refuses a value that is not JSON in the action, before it reaches the runner', async () => {
    const store = memoryKv();
    expect(await run('actions/not-json.ts', {}, store.kv)).toMatch(/the value of 'big' is not JSON/);
    expect(store.requests).toEqual([]);
  });

  it(`rejects with ${KV_UNAVAILABLE} when the runner was given no kv`, async () => {
    const result = (await run('actions/caught.ts', { name: 'anything' })) as JsonObject;
    expect(result).toMatchObject({ isError: true, code: KV_UNAVAILABLE });
    expect(result['message']).toMatch(/datastore is not available to test\.nodejs/);
  });
});
