import { describe, expect, it } from 'vitest';
import { ValidationError, type EventContext, type JsonValue, type Rule } from '@reflex/model';
import { compileRule } from './compile.ts';
import { explainCriteria } from './explain.ts';

const ctx = (payload: JsonValue, kv?: EventContext['kv']): EventContext => ({
  payload,
  event: { id: 'evt-1', type: 'core.webhook', source: 'webhook', occurredAt: '2024-05-01T12:00:00Z', traceId: 't-1' },
  ...(kv === undefined ? {} : { kv }),
});

const rule = (parameters: Record<string, JsonValue>, criteria?: JsonValue): Rule => ({
  ref: 'ops.page',
  pack: 'ops',
  name: 'page',
  enabled: true,
  trigger: { type: 'core.webhook' },
  ...(criteria === undefined ? {} : { criteria }),
  action: { ref: 'core.echo', parameters },
  source: 'api',
  createdAt: '2024-01-01T00:00:00Z',
  updatedAt: '2024-01-01T00:00:00Z',
});

function failure(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('datastore keys in templates', () => {
  it('lists the keys a rule reads when it compiles, each once', () => {
    const compiled = compileRule(
      rule({
        message: 'page {{ kv.system.oncall }} about {{ payload.host }}',
        to: '{{ kv.system.oncall }}',
        nested: { limit: '{{ kv.pack["disk.limit"] | default: 90 }}', list: ['{% if kv.pack.loud %}!{% endif %}'] },
      }),
    );
    expect(compiled.kv).toEqual({ system: ['oncall'], pack: ['disk.limit', 'loud'] });
    expect(compileRule(rule({ message: '{{ payload.host }}' })).kv).toEqual({ system: [], pack: [] });
  });

  it('renders them from ctx.kv, keeping the type of a single expression', () => {
    const compiled = compileRule(rule({ message: 'page {{ kv.system.oncall }}', limit: '{{ kv.pack.limit }}', tags: '{{ kv.system.tags }}' }));
    const kv = { system: { oncall: 'ana', tags: ['a', 'b'] }, pack: { limit: 95 } };
    expect(compiled.renderParameters(ctx({}, kv))).toEqual({ message: 'page ana', limit: 95, tags: ['a', 'b'] });
  });

  it('fails a render naming the missing key, unless the expression has a default', () => {
    const compiled = compileRule(rule({ message: '{{ kv.system.oncall }}', other: '{{ kv.system.backup | default: "nobody" }}' }));
    const err = failure(() => compiled.renderParameters(ctx({}, { system: {}, pack: {} })));
    expect(err.details?.[0]?.field).toBe('action.parameters.message');
    expect(err.message).toContain('kv.system.oncall');
    const ok = compileRule(rule({ other: '{{ kv.system.backup | default: "nobody" }}' }));
    expect(ok.renderParameters(ctx({}, { system: {}, pack: {} }))).toEqual({ other: 'nobody' });
  });

  it('refuses whole scopes, computed names, unknown scopes and bad names when the rule compiles', () => {
    const cases: Array<[string, string]> = [
      ['{{ kv.system[payload.team] }}', 'must be written out'],
      ['{% for k in kv.system %}{{ k }}{% endfor %}', 'a whole scope cannot be read'],
      ['{{ kv }}', 'kv.system.<name> or kv.pack.<name>'],
      ['{{ kv.secrets.x }}', 'kv.system.<name> or kv.pack.<name>'],
      ['{{ kv.system["a/b"] }}', 'is not a key name'],
      ['{{ kv.system[0] }}', 'must be written out'],
    ];
    for (const [template, message] of cases) {
      const err = failure(() => compileRule(rule({ message: template })));
      expect(err.details?.[0]?.field, template).toBe('action.parameters.message');
      expect(err.details?.[0]?.message, template).toContain(message);
    }
  });

  it('leaves a payload field named kv alone', () => {
    const compiled = compileRule(rule({ message: '{{ payload.kv.system }}' }));
    expect(compiled.kv).toEqual({ system: [], pack: [] });
    expect(compiled.renderParameters(ctx({ kv: { system: 'x' } }))).toEqual({ message: 'x' });
  });
});

describe('explainCriteria', () => {
  const conditions: JsonValue[] = [{ '==': [{ var: 'payload.status' }, 'firing'] }, { '>': [{ var: 'payload.value' }, 90] }];
  const criteria = { and: conditions };

  it('evaluates each condition of a top-level and, with the values it read', () => {
    const out = explainCriteria(criteria, ctx({ status: 'firing', value: 85 }));
    expect(out).toEqual([
      { field: 'criteria.and.0', criteria: conditions[0]!, matched: true, values: { 'payload.status': 'firing' } },
      { field: 'criteria.and.1', criteria: conditions[1]!, matched: false, values: { 'payload.value': 85 } },
    ]);
  });

  it('explains other criteria as a whole, and leaves absent fields out of the values', () => {
    const or = { or: [{ '==': [{ var: 'payload.a' }, 1] }, { '==': [{ var: 'payload.b' }, 2] }] };
    expect(explainCriteria(or, ctx({ a: 3 }))).toEqual([{ field: 'criteria', criteria: or, matched: false, values: { 'payload.a': 3 } }]);
    expect(explainCriteria(undefined, ctx({}))).toEqual([]);
    expect(explainCriteria({}, ctx({}))).toEqual([]);
  });
});
