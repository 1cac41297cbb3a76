import { describe, expect, it } from 'vitest';
import {
  canTransition,
  enforcementIdFor,
  executionIdFor,
  parseRef,
  ruleInputSchema,
  traceIdFrom,
  validateModel,
  validateUser,
  ValidationError,
} from './index.ts';

describe('model validation', () => {
  it('names every offending field', () => {
    const bad = { pack: 'demo', name: 'x', trigger: { type: 7 }, action: {}, extra: 1 };
    try {
      validateModel(ruleInputSchema, bad);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      const fields = (err as ValidationError).details?.map((d) => d.field);
      expect(fields).toEqual(expect.arrayContaining(['body.extra', 'body.trigger.type', 'body.action.ref']));
    }
  });

  it('applies defaults from user schemas', () => {
    const params: Record<string, unknown> = {};
    validateUser({ type: 'object', properties: { n: { type: 'integer', default: 3 } } }, params, 'parameters', 'parameters');
    expect(params).toEqual({ n: 3 });
  });

  it('rejects a non-ref', () => {
    expect(() => parseRef('nodot', 'action.ref')).toThrow(/action.ref/);
    expect(parseRef('core.echo')).toEqual({ pack: 'core', name: 'echo' });
  });
});

describe('derived ids', () => {
  it('are stable for the same inputs and differ otherwise', () => {
    expect(enforcementIdFor('e1', 'demo.r')).toBe(enforcementIdFor('e1', 'demo.r'));
    expect(enforcementIdFor('e1', 'demo.r')).not.toBe(enforcementIdFor('e2', 'demo.r'));
    expect(executionIdFor('enf-1')).toBe(executionIdFor('enf-1'));
  });

  it('accepts sane trace ids only', () => {
    expect(traceIdFrom('abc-123')).toBe('abc-123');
    expect(traceIdFrom('bad\r\nheader')).toMatch(/^[0-9a-f]{32}$/);
  });
});

describe('execution state machine', () => {
  it('allows forward moves and refuses leaving a terminal state', () => {
    expect(canTransition('requested', 'running')).toBe(true);
    expect(canTransition('running', 'succeeded')).toBe(true);
    expect(canTransition('succeeded', 'running')).toBe(false);
    expect(canTransition('canceled', 'failed')).toBe(false);
  });
});
