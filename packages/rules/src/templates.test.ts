import { describe, expect, it } from 'vitest';
import { ValidationError, type EventContext, type JsonValue } from '@reflex/model';
import { compileTemplateValue, renderCompiledValue, renderTemplateValue } from './templates.ts';

const ctx = (payload: JsonValue): EventContext => ({
  payload,
  event: { id: 'evt-1', type: 'core.webhook', source: 'webhook', occurredAt: '2024-05-01T12:00:00Z', traceId: 't-1' },
});

const payload = { body: { host: 'web-1', port: 8080, tls: true, tags: ['a', 'b'], meta: { dc: 'fra' }, none: null } };
const render = (value: JsonValue): JsonValue => renderTemplateValue(value, ctx(payload), 'action.parameters.p');

function failure(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('typed single expressions', () => {
  it('keep the type of the value', () => {
    expect(render('{{ payload.body.port }}')).toBe(8080);
    expect(render('{{ payload.body.tls }}')).toBe(true);
    expect(render('{{ payload.body.tags }}')).toEqual(['a', 'b']);
    expect(render('{{ payload.body.meta }}')).toEqual({ dc: 'fra' });
    expect(render('{{ payload.body.none }}')).toBeNull();
    expect(render('{{payload.body.host}}')).toBe('web-1');
    expect(render('  {{- payload.body.port -}}\n')).toBe(8080);
    expect(render('{{ payload.body.port | plus: 1 }}')).toBe(8081);
    expect(render('{{ payload.body.tags | size }}')).toBe(2);
    expect(render('{{ event.id }}')).toBe('evt-1');
  });

  it('refuse values that are not JSON', () => {
    expect(failure(() => render('{{ 1 | divided_by: 0 }}')).details).toEqual([
      { field: 'action.parameters.p', message: 'evaluated to Infinity, which is not a JSON number' },
    ]);
  });
});

describe('text templates', () => {
  it('render to a string, with objects and arrays as JSON', () => {
    expect(render('ssh {{ payload.body.host }} -p {{ payload.body.port }}')).toBe('ssh web-1 -p 8080');
    expect(render('meta={{ payload.body.meta }} tags={{ payload.body.tags }}')).toBe('meta={"dc":"fra"} tags=["a","b"]');
    expect(render('{% if payload.body.tls %}https{% else %}http{% endif %}://{{ payload.body.host }}')).toBe('https://web-1');
    expect(render('{{ payload.body.host }}{{ payload.body.port }}')).toBe('web-18080');
    expect(render('{% for t in payload.body.tags %}[{{ t }}]{% endfor %}')).toBe('[a][b]');
  });

  it('leave plain strings and non-strings alone', () => {
    expect(render('no templates here { } }}')).toBe('no templates here { } }}');
    expect(render(42)).toBe(42);
    expect(render(null)).toBeNull();
  });
});

describe('objects and arrays', () => {
  it('render recursively; keys are not templated', () => {
    expect(
      render({ '{{ payload.body.host }}': '{{ payload.body.host }}', list: ['{{ payload.body.port }}', 'x-{{ payload.body.port }}', 3] }),
    ).toEqual({ '{{ payload.body.host }}': 'web-1', list: [8080, 'x-8080', 3] });
  });

  it('name the nested place of a failure', () => {
    const err = failure(() => render({ headers: { 'X-Host': '{{ payload.body.nope }}' } }));
    expect(err.details).toEqual([
      { field: 'action.parameters.p.headers.X-Host', message: 'undefined variable: payload.body.nope, line:1, col:4' },
    ]);
  });
});

describe('strict variables', () => {
  it('fail loudly on a missing path, naming it', () => {
    const err = failure(() => render('rm -rf /data/{{ payload.body.dir }}'));
    expect(err.message).toMatch(/^action\.parameters\.p: undefined variable: payload\.body\.dir/);
    expect(failure(() => render('{{ payload.nope.deeper }}')).message).toMatch(/undefined variable: payload\.nope/);
  });

  it('allow a missing path under the default filter and in conditions', () => {
    expect(render('{{ payload.body.dir | default: "n/a" }}')).toBe('n/a');
    expect(render('dir={{ payload.x.y | default: "/tmp" }}')).toBe('dir=/tmp');
    expect(render('{{ payload.body.port | default: 1 }}')).toBe(8080);
    expect(render('{% if payload.body.dir %}yes{% else %}no{% endif %}')).toBe('no');
  });
});

describe('safety', () => {
  it('reads own properties only', () => {
    expect(failure(() => render('{{ payload.constructor }}')).message).toMatch(/undefined variable: payload.constructor/);
    expect(failure(() => render('{{ payload.body.meta["__proto__"] }}')).message).toMatch(/undefined variable/);
    expect(failure(() => render('{{ payload.body.tags.push }}')).message).toMatch(/undefined variable/);
  });

  it('has no file system: include, render and layout do not parse', () => {
    for (const tag of ['{% include "secrets.txt" %}', '{% render "x" %}', '{% layout "x" %}']) {
      expect(failure(() => compileTemplateValue(tag, 'action.parameters.p')).message).toMatch(/not found/);
    }
  });

  it('refuses unknown filters when the rule is compiled', () => {
    expect(failure(() => compileTemplateValue('{{ payload | shell }}', 'action.parameters.p')).details).toEqual([
      { field: 'action.parameters.p', message: 'template does not parse: undefined filter: shell, line:1, col:1' },
    ]);
  });

  it('stops runaway loops', () => {
    const started = performance.now();
    expect(failure(() => render('{% for i in (1..100000000) %}x{% endfor %}')).message).toMatch(/limit/);
    expect(performance.now() - started).toBeLessThan(2_000);
  });

  it('never writes into the event context', () => {
    const context = ctx({ n: 1 });
    const before = JSON.stringify(context);
    renderTemplateValue('{% increment payload %}{% assign event = 1 %}{{ event }}', context);
    expect(JSON.stringify(context)).toBe(before);
  });
});

describe('compiled once', () => {
  it('renders the same compiled value against many contexts', () => {
    const compiled = compileTemplateValue({ host: '{{ payload.host }}', n: '{{ payload.n }}' }, 'action.parameters');
    expect(renderCompiledValue(compiled, ctx({ host: 'a', n: 1 }), 'action.parameters')).toEqual({ host: 'a', n: 1 });
    expect(renderCompiledValue(compiled, ctx({ host: 'b', n: 2 }), 'action.parameters')).toEqual({ host: 'b', n: 2 });
  });

  it('reports a parse error with the field', () => {
    expect(failure(() => compileTemplateValue('{{ payload.x ', 'action.parameters.cmd')).details?.[0]?.field).toBe(
      'action.parameters.cmd',
    );
  });
});
