import { readFile, realpath } from 'node:fs/promises';
import path from 'node:path';
import { NonRetriableError, type JsonObject } from '@reflex/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionCanceledError, ActionFailedError, ActionTimeoutError, resultOf, retryHintOf } from './errors.ts';
import { createNodeRunner } from './node.ts';
import { context, EXAMPLES_PACK, eventually, isGone, request, tempDir, type TempDir } from './test-helpers.ts';

const runner = createNodeRunner();
let pack: TempDir;

/** Action modules of a temp pack: one per behaviour under test. */
const ACTIONS: Record<string, string> = {
  'actions/add.ts': `
    import type { ActionContext } from '@reflex/runners';
    export default async (params: { a: number; b: number }, ctx: ActionContext) => {
      ctx.logger.info({ a: params.a }, 'adding');
      ctx.logger.warn('careful');
      console.log('plain stdout');
      return { sum: params.a + params.b, config: ctx.config, action: ctx.action, pack: ctx.pack, cwd: process.cwd(), env: Object.keys(process.env) };
    };
  `,
  'actions/throws.ts': `export default async () => { throw new Error('disk on fire'); };`,
  'actions/typed-errors.mjs': `
    export default async (params) => {
      if (params.kind === 'fatal') throw Object.assign(new Error('bad config'), { name: 'NonRetriableError', code: 'BAD_CONFIG' });
      if (params.kind === 'later') throw Object.assign(new Error('busy'), { retryAfterMs: 2500 });
      throw 'a string';
    };
  `,
  'actions/exits.ts': `export default async () => { process.exit(3); };`,
  'actions/exits-at-load.mjs': `process.exit(0);`,
  'actions/crashes.ts': `export default async () => { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}); };`,
  'actions/late-throw.ts': `
    export default async () => {
      setImmediate(() => { throw new Error('thrown after returning'); });
      Promise.reject(new Error('rejected after returning'));
      return 'fine';
    };
  `,
  'actions/hangs.ts': `
    import { writeFileSync } from 'node:fs';
    export default async (params: { pidFile: string }) => {
      writeFileSync(params.pidFile, String(process.pid));
      process.on('SIGTERM', () => {}); // ignores SIGTERM: needs SIGKILL
      await new Promise(() => setInterval(() => {}, 1000));
    };
  `,
  'actions/cooperative.ts': `
    export default async (_params: unknown, ctx: { signal: AbortSignal }) => {
      await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      return { stoppedBecause: (ctx.signal.reason as Error).name };
    };
  `,
  'actions/bigint.ts': `export default () => ({ n: 10n });`,
  'actions/undefined.ts': `export default () => undefined;`,
  'actions/no-default.ts': `export const run = () => 1;`,
  'actions/syntax.ts': `export default () => {{;`,
  'actions/common.cjs': `module.exports = async (params) => ({ cjs: params.x });`,
  'actions/huge-output.ts': `export default () => { process.stdout.write('z'.repeat(50000)); return 'done'; };`,
};

beforeAll(async () => {
  pack = await tempDir('reflex-node-runner-test-');
  await pack.write(ACTIONS);
});

afterAll(async () => {
  await pack[Symbol.asyncDispose]();
});

const run = (entryPoint: string, parameters: JsonObject = {}, ctx = context({ packDir: pack.path })) =>
  runner.run(request('nodejs', parameters, { entryPoint }), ctx);

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('nodejs', () => {
  it('runs a TypeScript action out of process with params, config, logger and a clean env', async () => {
    const ctx = context({ packDir: pack.path, config: { region: 'eu' } });
    const result = (await run('actions/add.ts', { a: 2, b: 3 }, ctx)) as JsonObject;
    expect(result).toMatchObject({ sum: 5, config: { region: 'eu' }, action: 'test.nodejs', pack: 'test', env: ['PATH'] });
    expect(result['cwd']).toBe(await realpath(pack.path));
    expect(ctx.lines).toContainEqual(['stdout', 'info: adding { a: 2 }']);
    expect(ctx.lines).toContainEqual(['stderr', 'warn: careful']);
    expect(ctx.lines).toContainEqual(['stdout', 'plain stdout']);
  });

  it('runs the examples pack action as it ships', async () => {
    const ctx = context({ packDir: EXAMPLES_PACK, config: { prefix: '[prod]' } });
    const params = { host: 'db1', metric: 'disk', value: 97, warning: 80, critical: 95 };
    const result = await runner.run(request('nodejs', params, { entryPoint: 'actions/format_alert.ts', pack: 'examples' }), ctx);
    expect(result).toEqual({ severity: 'critical', text: '[prod] db1: disk at 97 (critical)' });
    expect(ctx.lines).toContainEqual(['stdout', "info: classified { host: 'db1', severity: 'critical' }"]);
  });

  it('fails with the message of what the action threw, output and stack kept', async () => {
    const err = await failure(run('actions/throws.ts'));
    expect(err).toBeInstanceOf(ActionFailedError);
    expect(err).toMatchObject({ code: 'ACTION_ERROR', message: 'disk on fire', retriable: true });
    const result = resultOf(err) as { stderr: string; exitCode: number };
    expect(result.stderr).toMatch(/Error: disk on fire\n\s+at /);
    expect(result.exitCode).toBe(1);
  });

  it('keeps what an error says about retrying', async () => {
    const fatal = await failure(run('actions/typed-errors.mjs', { kind: 'fatal' }));
    expect(fatal).toMatchObject({ code: 'BAD_CONFIG', message: 'NonRetriableError: bad config' });
    expect(retryHintOf(fatal)).toEqual({ retriable: false });
    const later = await failure(run('actions/typed-errors.mjs', { kind: 'later' }));
    expect(retryHintOf(later)).toEqual({ retriable: true, retryAfterMs: 2500 });
    const thrownString = await failure(run('actions/typed-errors.mjs', { kind: 'string' }));
    expect(thrownString).toMatchObject({ code: 'ACTION_ERROR', message: 'a string' });
  });

  it('survives an action that calls process.exit or is killed', async () => {
    const exited = await failure(run('actions/exits.ts'));
    expect(exited).toBeInstanceOf(ActionFailedError);
    expect(exited).toMatchObject({ code: 'ACTION_EXITED', message: "test.nodejs's process exited with code 3 before the action returned" });
    expect(resultOf(exited)).toMatchObject({ exitCode: 3, succeeded: false });

    const atLoad = await failure(run('actions/exits-at-load.mjs'));
    expect(atLoad).toMatchObject({ code: 'ACTION_EXITED' });

    const crashed = await failure(run('actions/crashes.ts'));
    expect(crashed).toMatchObject({ code: 'ACTION_EXITED', message: "test.nodejs's process was killed by SIGKILL before the action returned" });

    // and the runner still works
    expect(await run('actions/common.cjs', { x: 1 })).toEqual({ cjs: 1 });
  });

  it('keeps the result of an action that throws after returning', async () => {
    expect(await run('actions/late-throw.ts')).toBe('fine');
  });

  it('stops an action at its time limit: abort, SIGTERM, then SIGKILL', async () => {
    await using dir = await tempDir();
    const pidFile = path.join(dir.path, 'pid');
    const started = Date.now();
    const err = await failure(run('actions/hangs.ts', { pidFile }, context({ packDir: pack.path, timeoutMs: 300, limits: { killGraceMs: 200 } })));
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(err.message).toBe('test.nodejs timed out after 300ms');
    expect(resultOf(err)).toMatchObject({ signal: 'SIGKILL' });
    expect(Date.now() - started).toBeLessThan(3000);
    const pid = Number(await readFile(pidFile, 'utf8'));
    expect(pid).toBeGreaterThan(0);
    expect(await eventually(() => isGone(pid))).toBe(true);
  });

  it('aborts ctx.signal on cancel; a cooperative action ends before any signal', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('user canceled')), 300);
    const err = await failure(run('actions/cooperative.ts', {}, context({ packDir: pack.path, signal: controller.signal, limits: { killGraceMs: 5000 } })));
    expect(err).toBeInstanceOf(ActionCanceledError);
    expect(resultOf(err)).toMatchObject({ exitCode: 0, signal: null });
  });

  it('turns a timeout reason on the signal into a timeout', async () => {
    const err = await failure(run('actions/cooperative.ts', {}, context({ packDir: pack.path, signal: AbortSignal.timeout(300) })));
    expect(err).toBeInstanceOf(ActionTimeoutError);
  });

  it('caps output like a shell action', async () => {
    const ctx = context({ packDir: pack.path, limits: { outputBytes: 100 } });
    expect(await run('actions/huge-output.ts', {}, ctx)).toBe('done');
    expect(ctx.lines.at(-1)).toEqual(['stdout', '[reflex] stdout truncated: more than 100 bytes']);
  });

  it('turns undefined into null and refuses a result that is not JSON', async () => {
    expect(await run('actions/undefined.ts')).toBeNull();
    const err = await failure(run('actions/bigint.ts'));
    expect(err).toBeInstanceOf(NonRetriableError);
    expect(err).toMatchObject({ code: 'RESULT_NOT_JSON' });
  });

  it('refuses modules that cannot be loaded or have no default export, and paths outside the pack', async () => {
    const cases: Array<[string, RegExp]> = [
      ['actions/no-default.ts', /no default export function/],
      ['actions/syntax.ts', /cannot be loaded/],
      ['../outside.ts', /outside its pack/],
    ];
    for (const [entryPoint, message] of cases) {
      const err = await failure(run(entryPoint));
      expect(err, entryPoint).toBeInstanceOf(NonRetriableError);
      expect(err, entryPoint).toMatchObject({ code: 'ENTRY_POINT_INVALID' });
      expect(err.message, entryPoint).toMatch(message);
    }
    await expect(run('actions/add.ts', {}, context())).rejects.toMatchObject({ code: 'PACK_DIR_UNKNOWN' });
  });

  it('runs actions side by side', async () => {
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => run('actions/add.ts', { a: i, b: 1 })));
    expect(results.map((r) => (r as JsonObject)['sum'])).toEqual([1, 2, 3, 4, 5, 6]);
  });
});
