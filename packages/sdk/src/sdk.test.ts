/**
 * The SDK's types come from the schemas (checked by `tsc -p .`: every `@ts-expect-error` below must
 * be an error), and its run-time helpers are thin: what they return is what the runner and the
 * sensors' host call.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ActionError, defineAction, defineSensor, defineTriggerType, type ActionContext, type PayloadOf, type SensorContext } from './index.ts';

const diskUsage = defineTriggerType({
  ref: 'linux.disk_usage',
  payloadSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['host', 'mount', 'used_percent'],
    properties: {
      host: { type: 'string' },
      mount: { type: 'string' },
      used_percent: { type: 'number', minimum: 0, maximum: 100 },
      free_bytes: { type: 'integer' },
    },
  },
} as const);

const load = defineTriggerType({
  ref: 'linux.load',
  payloadSchema: { type: 'object', additionalProperties: false, required: ['load1'], properties: { load1: { type: 'number' } } },
} as const);

const silentLogger = { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} };

describe('defineTriggerType', () => {
  it('keeps the definition and types the payload from its schema', () => {
    expect(diskUsage.ref).toBe('linux.disk_usage');
    expect(Object.isFrozen(diskUsage)).toBe(true);
    expectTypeOf<PayloadOf<typeof diskUsage>>().toEqualTypeOf<{ host: string; mount: string; used_percent: number; free_bytes?: number }>();
  });
});

describe('defineSensor', () => {
  it('types emit from the trigger types: the first by default, another by `type`', async () => {
    const emitted: Array<[unknown, unknown]> = [];
    const sensor = defineSensor({
      triggerTypes: [diskUsage, load],
      pollInterval: 30,
      async poll(ctx) {
        await ctx.emit({ host: 'db1', mount: '/', used_percent: 97 });
        await ctx.emit({ load1: 2.5 }, { type: 'linux.load' });
        if (ctx.signal.aborted) {
          // @ts-expect-error -- used_percent must be a number
          await ctx.emit({ host: 'db1', mount: '/', used_percent: '97%' });
          // @ts-expect-error -- mount is required by linux.disk_usage
          await ctx.emit({ host: 'db1', used_percent: 97 });
          // @ts-expect-error -- a linux.load payload is not a linux.disk_usage one
          await ctx.emit({ load1: 1 });
          // @ts-expect-error -- not one of the sensor's trigger types
          await ctx.emit({ load1: 1 }, { type: 'linux.other' });
        }
      },
    });
    expect(sensor.kind).toBe('reflex.sensor');
    expect(sensor.pollInterval).toBe(30);
    expect(sensor.triggerTypes.map((t) => t.ref)).toEqual(['linux.disk_usage', 'linux.load']);
    const ctx: SensorContext<typeof sensor.triggerTypes> = {
      sensor: 'linux.disk',
      pack: 'linux',
      packDir: '/packs/linux',
      logger: silentLogger,
      config: {},
      kv: { get: async () => null, put: async () => {}, delete: async () => false },
      signal: new AbortController().signal,
      emit: async (payload, options) => {
        emitted.push([payload, options?.type]);
        return { eventId: 'e', traceId: 't' };
      },
    };
    await sensor.poll?.(ctx);
    expect(emitted).toEqual([
      [{ host: 'db1', mount: '/', used_percent: 97 }, undefined],
      [{ load1: 2.5 }, 'linux.load'],
    ]);
  });

  it('makes run sensors: no pollInterval, a run that gets the signal', () => {
    const sensor = defineSensor({
      triggerTypes: [load],
      async run(ctx) {
        await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
      },
    });
    expect(typeof sensor.run).toBe('function');
    expect(sensor.poll).toBeUndefined();
  });
});

describe('defineAction', () => {
  const action = defineAction({
    parameters: {
      host: { type: 'string', required: true },
      retries: { type: 'integer', default: 3 },
      mode: { type: 'string', enum: ['fast', 'safe'] },
      token: { type: 'string', secret: true },
    } as const,
    async run(params, ctx) {
      return { host: params.host, retries: params.retries + 1, mode: params.mode ?? 'safe', action: ctx.action };
    },
  });

  it('types params from the parameters map: required and defaulted ones are present, others optional', () => {
    type Params = Parameters<typeof action>[0];
    expectTypeOf<Params>().toEqualTypeOf<{ host: string; retries: number; mode?: 'fast' | 'safe'; token?: string }>();
    expectTypeOf(action).returns.resolves.toEqualTypeOf<{ host: string; retries: number; mode: 'fast' | 'safe'; action: string }>();
  });

  it('returns the function the nodejs runner calls, (params, ctx) => result', async () => {
    const ctx: ActionContext = {
      logger: silentLogger,
      config: {},
      signal: new AbortController().signal,
      executionId: 'x',
      action: 'linux.check',
      pack: 'linux',
      packDir: '/packs/linux',
      traceId: 't',
      kv: { get: async () => null, put: async () => {}, delete: async () => false },
    };
    expect(await action({ host: 'db1', retries: 3 }, ctx)).toEqual({ host: 'db1', retries: 4, mode: 'safe', action: 'linux.check' });
    expect(Object.keys(action.parameters)).toEqual(['host', 'retries', 'mode', 'token']);
    if (ctx.signal.aborted) {
      // @ts-expect-error -- host is required
      await action({ retries: 1 }, ctx);
      // @ts-expect-error -- retries is an integer
      await action({ host: 'db1', retries: 'three' }, ctx);
    }
  });

  it('ActionError carries the retry semantics the runner reads', () => {
    const err = new ActionError('quota', { code: 'QUOTA', retryAfterMs: 30_000 });
    expect([err.name, err.code, err.retriable, err.retryAfterMs]).toEqual(['ActionError', 'QUOTA', undefined, 30_000]);
  });
});
