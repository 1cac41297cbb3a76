/**
 * Hostile input, generated (fast-check): malformed and deeply nested JSON, huge strings,
 * prototype-poisoning keys in bodies, payloads and JSON-logic, unicode in refs, path traversal in
 * pack names, shell metacharacters in parameters, random JSON to every write route, and CR/LF/NUL in
 * headers over a real socket. Expected: a 4xx, never a 5xx; the process keeps answering; nothing
 * is stored or published; no prototype changes. The counts are printed at the end.
 */
import { connect } from 'node:net';
import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Consumer } from '@reflex/bus';
import type { Rule } from '@reflex/model';
import { MAX_JSON_DEPTH } from './json-body.ts';
import { bearer, startTestApi, type TestApi } from './testing.ts';

const BODY_LIMIT = 64 * 1024;

interface Tally {
  cases: number;
  statuses: Map<number, number>;
}
const tallies = new Map<string, Tally>();

function count(category: string, status: number): void {
  let tally = tallies.get(category);
  if (tally === undefined) {
    tally = { cases: 0, statuses: new Map() };
    tallies.set(category, tally);
  }
  tally.cases++;
  tally.statuses.set(status, (tally.statuses.get(status) ?? 0) + 1);
}

/** Every own property of the built-in prototypes, to prove none was added or replaced. */
function prototypeSnapshot(): string {
  return [Object.prototype, Array.prototype, Function.prototype, String.prototype]
    .map((proto) => Object.getOwnPropertyNames(proto).sort().map((name) => `${name}:${typeof Object.getOwnPropertyDescriptor(proto, name)?.value}`).join(','))
    .join('|');
}

const openRule: Rule = {
  ref: 'hooks.open',
  pack: 'hooks',
  name: 'open',
  enabled: true,
  trigger: { type: 'core.webhook', parameters: { url: 'open' } },
  action: { ref: 'core.noop' },
  source: 'pack',
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
};

const validRule = {
  pack: 'demo',
  name: 'hostile',
  trigger: { type: 'core.webhook', parameters: { url: 'hostile' } },
  criteria: { '==': [{ var: 'payload.body.x' }, 1] },
  action: { ref: 'core.echo', parameters: { message: '{{ payload.body.x }}' } },
};

/** Routes that take a JSON body, each with a valid body to start mutating from (none of them is sent as is). */
const WRITES: Array<{ method: 'POST' | 'PUT'; url: string; valid: Record<string, unknown> }> = [
  { method: 'POST', url: '/v1/rules', valid: validRule },
  { method: 'PUT', url: '/v1/rules/demo.hostile', valid: validRule },
  { method: 'POST', url: '/v1/events', valid: { type: 'core.webhook', payload: { body: {}, headers: {}, query: {} } } },
  { method: 'POST', url: '/v1/executions', valid: { action: 'core.echo', parameters: { message: 'hi' } } },
  { method: 'POST', url: '/v1/apikeys', valid: { name: 'hostile', role: 'viewer' } },
  { method: 'POST', url: '/v1/roles', valid: { name: 'hostile', grants: [{ permissions: ['rules:read'] }] } },
  { method: 'PUT', url: '/v1/webhook-auth/hostile', valid: { type: 'token', token: 'hostile-token-0123456789' } },
  { method: 'POST', url: '/v1/packs/register', valid: { packs: ['core'] } },
  { method: 'POST', url: '/v1/webhooks/open', valid: { hello: 'world' } },
  { method: 'POST', url: '/v1/rules/backtest', valid: { rule: 'hooks.open', since: '1h' } },
  { method: 'PUT', url: '/v1/packs/linux/config', valid: { exclude_mounts: ['/boot/efi'] } },
];

/** Not JSON, and not empty (an empty body is no body: a webhook without one is a valid ping). */
const notJson = (text: string): boolean => {
  if (text === '') return false;
  try {
    JSON.parse(text);
    return false;
  } catch {
    return true;
  }
};

/** Nested arrays/objects `depth` deep around a small core, as text. */
function nested(depth: number, kinds: string): string {
  let open = '';
  let close = '';
  for (let i = 0; i < depth; i++) {
    const k = kinds[i % kinds.length];
    if (k === 'a') {
      open += '[';
      close = `]${close}`;
    } else {
      open += '{"k":';
      close = `}${close}`;
    }
  }
  return `${open}1${close}`;
}

/**
 * A valid body as text with `"<keyText>": <fragment>` added to the object at `path` (as deep as the
 * body goes). Spliced into the text: a `__proto__` key in an object literal would set a prototype.
 */
function withFragment(valid: Record<string, unknown>, path: string[], keyText: string, fragment: string): string {
  const copy = structuredClone(valid) as Record<string, unknown>;
  let node: Record<string, unknown> = copy;
  for (const segment of path) {
    const next = node[segment];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) break;
    node = next as Record<string, unknown>;
  }
  node['__HOSTILE_KEY__'] = '__HOSTILE_MARKER__';
  return JSON.stringify(copy).replace('"__HOSTILE_KEY__"', `"${keyText}"`).replace('"__HOSTILE_MARKER__"', fragment);
}

describe('hostile input', () => {
  let t: TestApi;
  let consumer: Consumer;
  let published = 0;
  let before: string;
  const headers = (): Record<string, string> => ({ ...bearer(t.adminKey), 'content-type': 'application/json' });

  const send = async (category: string, options: InjectOptions): Promise<number> => {
    const res = await t.app.inject(options);
    count(category, res.statusCode);
    expect(res.statusCode, `${category}: ${String(options.method)} ${options.url} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
    return res.statusCode;
  };
  const refused = async (category: string, options: InjectOptions): Promise<void> => {
    const status = await send(category, options);
    expect(status, `${category}: ${String(options.method)} ${options.url}`).toBeGreaterThanOrEqual(400);
  };

  beforeAll(async () => {
    t = await startTestApi({ auth: true, bodyLimitBytes: BODY_LIMIT });
    await t.store.rules.insert(openRule);
    consumer = await t.bus.consume({ stream: t.names.eventsStream, durable: 'hostile' }, async (m) => {
      published++;
      await m.ack();
    });
    before = prototypeSnapshot();
  });

  afterAll(async () => {
    await consumer.stop();
    await t.close();
    const rows = [...tallies.entries()].map(([category, tally]) => {
      const statuses = [...tally.statuses.entries()].sort((a, b) => a[0] - b[0]).map(([s, n]) => `${s}×${n}`).join(' ');
      return `  ${category.padEnd(34)} ${String(tally.cases).padStart(6)}  ${statuses}`;
    });
    const total = [...tallies.values()].reduce((sum, tally) => sum + tally.cases, 0);
    process.stdout.write(`[hostile input] ${total} generated requests, none answered 5xx:\n${rows.join('\n')}\n`);
  });

  it('answers malformed JSON with 400 on every JSON route', async () => {
    const malformed = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 300 }),
      fc.jsonValue({ maxDepth: 3 }).chain((v) => {
        const text = JSON.stringify(v) ?? 'null';
        return fc.nat({ max: Math.max(0, text.length - 1) }).map((cut) => text.slice(0, cut));
      }),
      fc.constantFrom('{', '[', '{"a":}', '{"a" 1}', "{'a':1}", '{"a":1,}', '[1,,2]', 'NaN', '{"a":undefined}', '\u0000', '{"a":"\\x"}', '"\\ud800'),
    ).filter(notJson);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITES), malformed, async (route, body) => {
        const status = await send('malformed JSON', { method: route.method, url: route.url, headers: headers(), payload: body });
        expect(status).toBe(400);
      }),
      { numRuns: 700 },
    );
  });

  it('refuses JSON nested deeper than the limit, alone or inside a valid body', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...WRITES),
        fc.integer({ min: MAX_JSON_DEPTH + 1, max: 20_000 }),
        fc.constantFrom('a', 'o', 'ao', 'aoo'),
        fc.boolean(),
        async (route, depth, kinds, inside) => {
          const deep = nested(depth, kinds);
          const body = inside ? withFragment(route.valid, ['action', 'parameters', 'payload'], 'deep', deep) : deep;
          await refused('deep nesting', { method: route.method, url: route.url, headers: headers(), payload: body });
        },
      ),
      { numRuns: 400 },
    );
  });

  it('refuses huge strings in bounded fields (400) and bodies over the limit (413)', async () => {
    const fields: Array<[number, string[]]> = [
      [0, ['name']],
      [0, ['description']],
      [0, ['pack']],
      [0, ['action', 'ref']],
      [2, ['type']],
      [3, ['action']],
      [4, ['name']],
      [5, ['name']],
      [6, ['token']],
    ];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.integer({ min: 5_000, max: 200_000 }), fc.constantFrom('x', 'é', '😀', '\u0000'), async ([i, path], size, unit) => {
        const route = WRITES[i] as (typeof WRITES)[number];
        const body = structuredClone(route.valid);
        let node = body as Record<string, unknown>;
        for (const segment of path.slice(0, -1)) node = node[segment] as Record<string, unknown>;
        node[path.at(-1) as string] = unit.repeat(size);
        const status = await send('huge strings', { method: route.method, url: route.url, headers: headers(), payload: JSON.stringify(body) });
        expect([400, 413]).toContain(status);
      }),
      { numRuns: 300 },
    );
  });

  it('refuses __proto__ and constructor.prototype keys anywhere in bodies, payloads and parameters', async () => {
    const keys = fc.constantFrom('__proto__', '\\u005f_proto__', '__pro\\u0074o__', 'constructor');
    const poison = fc.record({ key: keys, value: fc.constantFrom('{"polluted":true}', '{"isAdmin":true,"toString":1}', '[{"polluted":1}]') });
    const paths = fc.constantFrom<string[]>([], ['action'], ['action', 'parameters'], ['trigger', 'parameters'], ['payload'], ['parameters'], ['grants']);
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITES), paths, poison, async (route, path, { key, value }) => {
        const fragment = key === 'constructor' ? `{"prototype":${value}}` : value;
        const text = withFragment(route.valid, path, key, fragment);
        await refused('prototype keys in bodies', { method: route.method, url: route.url, headers: headers(), payload: text });
      }),
      { numRuns: 600 },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('__proto__[polluted]=1', '__proto__=x', 'a=1&__proto__=%7B%7D', 'constructor=1', 'constructor[prototype][polluted]=1', 'prototype=x', '%5F%5Fproto%5F%5F=1'), async (form) => {
        await refused('prototype keys in bodies', {
          method: 'POST',
          url: '/v1/webhooks/open',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          payload: form,
        });
      }),
      { numRuns: 40 },
    );
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    expect(({} as Record<string, unknown>)['isAdmin']).toBeUndefined();
  });

  it('refuses JSON-logic that reaches for prototypes', async () => {
    const dangerous = fc.constantFrom('__proto__', 'constructor', 'prototype', 'payload.__proto__.x', 'payload.constructor.prototype', 'event.constructor', '__proto__.polluted');
    await fc.assert(
      fc.asyncProperty(dangerous, fc.constantFrom('var', 'exists', 'missing'), async (path, op) => {
        const criteria = op === 'missing' ? { missing: [path] } : { '==': [{ [op]: path }, 1] };
        await refused('JSON-logic prototype paths', {
          method: 'POST',
          url: '/v1/rules',
          headers: headers(),
          payload: JSON.stringify({ ...validRule, criteria }),
        });
      }),
      { numRuns: 200 },
    );
  });

  it('answers unicode in refs, ids and names with a 4xx', async () => {
    const weird = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 60 }).map((s) => `${s}é`);
    const reads = ['/v1/rules/', '/v1/actions/', '/v1/triggertypes/', '/v1/executions/', '/v1/events/', '/v1/packs/', '/v1/roles/', '/v1/apikeys/', '/v1/webhook-auth/', '/v1/sensors/'];
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...reads), fc.constantFrom('GET', 'DELETE'), weird, async (prefix, method, name) => {
        await refused('unicode in refs', { method: method as 'GET', url: `${prefix}${encodeURIComponent(name)}`, headers: headers() });
      }),
      { numRuns: 400 },
    );
    await fc.assert(
      fc.asyncProperty(weird, fc.constantFrom(0, 2, 3, 4, 5), async (name, i) => {
        const route = WRITES[i] as (typeof WRITES)[number];
        const body = { ...route.valid, ...(i === 0 ? { pack: name, name } : i === 2 ? { type: name } : i === 3 ? { action: name } : { name }) };
        await refused('unicode in refs', { method: route.method, url: route.url, headers: headers(), payload: JSON.stringify(body) });
        await refused('unicode in refs', { method: 'PUT', url: `/v1/rules/${encodeURIComponent(name)}`, headers: headers(), payload: JSON.stringify(validRule) });
        await refused('unicode in refs', { method: 'PUT', url: `/v1/webhook-auth/${encodeURIComponent(name)}`, headers: headers(), payload: JSON.stringify({ type: 'apikey' }) });
      }),
      { numRuns: 200 },
    );
  });

  it('refuses path traversal in pack names and paths', async () => {
    const part = fc.constantFrom('..', '.', '%2e%2e', '%2f', '/', '\\', '..\\', 'etc', 'passwd', '~', '%00', '\u0000', 'core', 'C:', '%252e%252e');
    const traversal = fc.array(part, { minLength: 1, maxLength: 8 }).map((parts) => parts.join('')).filter((s) => /\.\.|\/|\\|%|\u0000|~|:/.test(s));
    await fc.assert(
      fc.asyncProperty(traversal, async (name) => {
        await refused('path traversal in packs', { method: 'POST', url: '/v1/packs/register', headers: headers(), payload: JSON.stringify({ packs: [name] }) });
        await refused('path traversal in packs', { method: 'GET', url: `/v1/packs/${encodeURIComponent(name)}`, headers: headers() });
        await refused('path traversal in packs', { method: 'POST', url: '/v1/rules', headers: headers(), payload: JSON.stringify({ ...validRule, pack: name }) });
      }),
      { numRuns: 300 },
    );
  });

  it('answers random JSON on every write route without a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...WRITES.filter((w) => !w.url.includes('/webhooks/') && !['/v1/packs/register', '/v1/packs/linux/config', '/v1/rules/backtest'].includes(w.url))), fc.jsonValue({ maxDepth: 4 }), async (route, body) => {
        await refused('random JSON bodies', { method: route.method, url: route.url, headers: headers(), payload: JSON.stringify(body) ?? 'null' });
      }),
      { numRuns: 800 },
    );
  });

  it('has stored, published and polluted nothing so far', async () => {
    await new Promise((r) => setTimeout(r, 200));
    expect(published).toBe(0);
    expect(await t.store.rules.list({ source: 'api' })).toEqual([]);
    expect((await t.store.executions.list({})).items).toEqual([]);
    expect((await t.store.apiKeys.list({ includeRevoked: true })).map((k) => k.name)).toEqual(['test-admin']);
    expect(await t.store.roles.list()).toEqual([]);
    expect(await t.store.webhookAuth.list()).toEqual([]);
    expect((await t.store.audit.list({})).items).toEqual([]);
    expect(prototypeSnapshot()).toBe(before);
    expect((await t.app.inject({ url: '/v1/health' })).statusCode).toBe(200);
  });

  it('never fails on random JSON-logic criteria (valid ones are stored, the rest refused)', async () => {
    const operators = fc.constantFrom('==', '!=', 'and', 'or', '!', 'if', 'in', 'var', 'regex', 'glob', 'timediff', 'map', 'reduce', 'frobnicate', '<', 'cat', 'substr', 'merge', 'all');
    const logic = fc.letrec<{ node: unknown }>((tie) => ({
      node: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.jsonValue({ maxDepth: 1 }),
        fc.tuple(operators, fc.array(tie('node'), { maxLength: 3 })).map(([op, args]) => ({ [op]: args })),
      ),
    })).node;
    await fc.assert(
      fc.asyncProperty(logic, async (criteria) => {
        const status = await send('random JSON-logic criteria', { method: 'POST', url: '/v1/rules', headers: headers(), payload: JSON.stringify({ ...validRule, name: 'logic', criteria }) });
        if (status === 201) await t.store.rules.delete('demo.logic'); // valid criteria are allowed; keep the store empty for the end check
      }),
      { numRuns: 500 },
    );
  });

  it('keeps shell metacharacters in parameters as data: stored exactly as sent, never interpreted', async () => {
    const meta = fc
      .array(fc.constantFrom('$(id)', '`id`', ';', '|', '&&', '||', '>', '<', '>>', '\n', '\r\n', '\\', "'", '"', '$HOME', '${IFS}', '*', '?', '~', 'rm -rf /', '%s', '\u0000', '#', '!', 'a'), { minLength: 1, maxLength: 10 })
      .map((parts) => parts.join(''));
    await fc.assert(
      fc.asyncProperty(meta, async (message) => {
        const res = await t.app.inject({ method: 'POST', url: '/v1/executions', headers: headers(), payload: JSON.stringify({ action: 'core.echo', parameters: { message } }) });
        count('shell metacharacters (as data)', res.statusCode);
        expect(res.statusCode).toBe(201);
        expect((await t.store.executions.get(res.json().id))?.parameters).toEqual({ message });
        await refused('shell metacharacters (as data)', { method: 'POST', url: '/v1/executions', headers: headers(), payload: JSON.stringify({ action: message, parameters: {} }) });
      }),
      { numRuns: 300 },
    );
  });

  it('survives CR, LF and NUL in header values (over a real socket): never a 5xx, nothing injected into the answer', async () => {
    const address = await t.app.listen({ port: 0, host: '127.0.0.1' });
    const port = Number(new URL(address).port);
    const raw = (request: string): Promise<string> =>
      new Promise((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.end(request));
        let data = '';
        socket.on('data', (d) => (data += d.toString('latin1')));
        socket.on('close', () => resolve(data));
        socket.on('error', (err) => (data === '' ? reject(err) : resolve(data)));
      });
    const evil = fc
      .tuple(fc.string({ maxLength: 20 }), fc.constantFrom('\r', '\n', '\r\n', '\u0000', '\r\nX-Injected: 1', '\r\n\r\nGET /v1/health HTTP/1.1'), fc.string({ maxLength: 20 }))
      .map(([a, bad, b]) => `${a}${bad}${b}`);
    const names = fc.constantFrom('Authorization', 'X-Reflex-Api-Key', 'X-Reflex-Trace', 'Content-Type', 'X-Hub-Signature-256');
    await fc.assert(
      fc.asyncProperty(names, evil, async (name, value) => {
        const body = '{"a":1}';
        const response = await raw(
          `POST /v1/webhooks/open HTTP/1.1\r\nHost: x\r\nConnection: close\r\n${name}: ${value}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`,
        );
        const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
        count('CR/LF/NUL in headers (socket)', status);
        expect(status, response.slice(0, 200)).toBeGreaterThanOrEqual(200);
        expect(status).toBeLessThan(500);
        expect(response.toLowerCase()).not.toContain('x-injected');
      }),
      { numRuns: 300 },
    );
    expect((await t.app.inject({ url: '/v1/health' })).statusCode).toBe(200);
  });
});
