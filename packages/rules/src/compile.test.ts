import { describe, expect, it } from 'vitest';
import { eventContext, ValidationError, type ReflexEvent, type Rule } from '@reflex/model';
import { compileRule } from './compile.ts';

const base: Rule = {
  ref: 'monitoring.restart_web',
  pack: 'monitoring',
  name: 'restart_web',
  enabled: true,
  trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
  criteria: {
    and: [{ '==': [{ var: 'payload.alert.severity' }, 'critical'] }, { glob: [{ var: 'payload.alert.host' }, 'web-*'] }],
  },
  action: {
    ref: 'core.local',
    parameters: {
      cmd: 'systemctl restart {{ payload.alert.service }}',
      hosts: ['{{ payload.alert.host }}'],
      retries: '{{ payload.alert.retries | default: 3 }}',
      env: { TRACE: '{{ event.traceId }}' },
    },
  },
  source: 'pack',
  createdAt: '2024-05-01T00:00:00Z',
  updatedAt: '2024-05-01T00:00:00Z',
};

const event: ReflexEvent = {
  id: 'evt-1',
  type: 'core.webhook',
  triggerParameters: { url: 'alerts' },
  source: 'webhook',
  payload: { alert: { severity: 'critical', host: 'web-7', service: 'nginx' } },
  occurredAt: '2024-05-01T12:00:00Z',
  traceId: 'trace-1',
};

function details(rule: unknown): Array<{ field: string; message: string }> {
  try {
    compileRule(rule as Rule);
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).details ?? [];
  }
  throw new Error('expected a ValidationError');
}

describe('compileRule', () => {
  it('prepares trigger, criteria, equality predicates and templates', () => {
    const compiled = compileRule(base);
    expect(compiled.ref).toBe('monitoring.restart_web');
    expect(compiled.triggerType).toBe('core.webhook');
    expect(compiled.triggerParameters).toEqual({ url: 'alerts' });
    expect(compiled.equalities.map((e) => e.path)).toEqual(['payload.alert.severity']);
    const ctx = eventContext(event);
    expect(compiled.evaluate(ctx)).toEqual({ matched: true });
    expect(compiled.matches(ctx)).toBe(true);
    expect(compiled.renderParameters(ctx)).toEqual({
      cmd: 'systemctl restart nginx',
      hosts: ['web-7'],
      retries: 3,
      env: { TRACE: 'trace-1' },
    });
  });

  it('treats empty trigger parameters as none', () => {
    expect(compileRule({ ...base, trigger: { type: 'core.webhook', parameters: {} } }).triggerParameters).toBeUndefined();
  });

  it('names every problem, rooted at its place in the rule', () => {
    const bad = {
      ...base,
      trigger: { type: 'core.webhook', parameters: ['alerts'] },
      criteria: { and: [{ '==': [1, 1] }, { '>': [{ var: 'payload.__proto__' }, 1] }, { nope: [] }] },
      action: { ref: 'core.local', parameters: { cmd: '{{ payload.x | shellquote }}', ok: 'fine', list: ['{% if %}'] } },
    };
    expect(details(bad).map((d) => d.field)).toEqual([
      'trigger.parameters',
      'criteria.and.1.>.0.var',
      'criteria.and.2.nope',
      'action.parameters.cmd',
      'action.parameters.list.0',
    ]);
  });

  it('checks the basic shape', () => {
    expect(details({ ...base, ref: '' }).map((d) => d.field)).toEqual(['ref']);
    expect(details({ ...base, trigger: { type: 7 } }).map((d) => d.field)).toEqual(['trigger.type']);
    expect(details({ ...base, action: { ref: 'core.local', parameters: 'x' } }).map((d) => d.field)).toEqual(['action.parameters']);
    expect(details({ ...base, trigger: { type: 'core.webhook', parameters: { n: Number.POSITIVE_INFINITY } } })).toEqual([
      { field: 'trigger.parameters.n', message: 'must be a finite number' },
    ]);
    expect(details(null)).toEqual([{ field: 'rule', message: 'must be an object' }]);
  });

  it('says which rule and where in the message', () => {
    expect(() => compileRule({ ...base, criteria: { nope: 1 } })).toThrow(
      "rule 'monitoring.restart_web' is invalid: criteria.nope unknown operator 'nope'",
    );
  });

  it('throws a ValidationError naming the parameter when rendering fails', () => {
    const compiled = compileRule(base);
    const ctx = eventContext({ ...event, payload: { alert: { severity: 'critical', host: 'web-7' } } });
    try {
      compiled.renderParameters(ctx);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ValidationError);
      expect((err as ValidationError).details).toEqual([
        { field: 'action.parameters.cmd', message: expect.stringMatching(/^undefined variable: payload\.alert\.service/) },
      ]);
    }
  });

  it('uses the clock it was compiled with unless the call brings one', () => {
    const rule: Rule = { ...base, criteria: { '<': [{ timediff: { var: 'event.occurredAt' } }, 60] } };
    const ctx = eventContext(event);
    const compiled = compileRule(rule, { now: () => Date.parse('2024-05-01T12:00:30Z') });
    expect(compiled.matches(ctx)).toBe(true);
    expect(compiled.evaluate(ctx, { now: () => Date.parse('2024-05-01T13:00:00Z') }).matched).toBe(false);
    expect(compileRule(rule).matches(ctx)).toBe(false);
  });

  it('treats a rule without `enabled` as enabled', () => {
    const { enabled: _enabled, ...rest } = base;
    expect(compileRule(rest as Rule).enabled).toBe(true);
    expect(compileRule({ ...base, enabled: false }).enabled).toBe(false);
  });
});
