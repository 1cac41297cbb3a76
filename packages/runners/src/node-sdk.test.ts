/**
 * A `nodejs` action written with @reflex/sdk in a pack folder outside this installation (no
 * node_modules there): the action process maps `@reflex/sdk` to the installation's SDK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActionFailedError, retryHintOf } from './errors.ts';
import { createNodeRunner } from './node.ts';
import { context, request, tempDir, type TempDir } from './test-helpers.ts';

const runner = createNodeRunner();
let pack: TempDir;

beforeAll(async () => {
  pack = await tempDir('reflex-sdk-pack-');
  await pack.write({
    'actions/greet.ts': `
      import { defineAction, ActionError } from '@reflex/sdk';
      export default defineAction({
        parameters: { name: { type: 'string', required: true }, times: { type: 'integer', default: 1 } },
        async run(params, ctx) {
          if (params.name === 'nobody') throw new ActionError('no one to greet', { retriable: false, code: 'NOBODY' });
          ctx.logger.info('greeting %s', params.name);
          return { text: Array.from({ length: params.times }, () => 'hi ' + params.name).join(', '), pack: ctx.pack };
        },
      });
    `,
  });
});

afterAll(async () => {
  await pack[Symbol.asyncDispose]();
});

describe('nodejs actions written with @reflex/sdk', () => {
  it('imports the SDK from a pack outside the installation and runs the defined action', async () => {
    const ctx = context({ packDir: pack.path });
    const result = await runner.run(request('nodejs', { name: 'ana', times: 2 }, { entryPoint: 'actions/greet.ts' }), ctx);
    expect(result).toEqual({ text: 'hi ana, hi ana', pack: 'test' });
    expect(ctx.lines).toContainEqual(['stdout', 'info: greeting ana']);
  });

  it("keeps an ActionError's code and retry semantics", async () => {
    const failure = await runner.run(request('nodejs', { name: 'nobody' }, { entryPoint: 'actions/greet.ts' }), context({ packDir: pack.path })).catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(ActionFailedError);
    expect((failure as ActionFailedError).code).toBe('NOBODY');
    expect(retryHintOf(failure)).toMatchObject({ retriable: false });
  });
});
