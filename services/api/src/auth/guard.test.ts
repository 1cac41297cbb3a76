/**
 * Authorization is decided in one place (guard.ts), on what each route declares. This walks EVERY
 * registered route with every built-in role, with no key, and with a role that grants nothing,
 * against a table written out by hand: a new route fails here until someone decides who may call it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { bearer, makeKey, startTestApi, type TestApi } from '../testing.ts';

type Who = 'admin' | 'operator' | 'viewer';
const ALL: Who[] = ['admin', 'operator', 'viewer'];
const OPS: Who[] = ['admin', 'operator'];
const ADMIN: Who[] = ['admin'];

/** POSTs that change nothing, so they audit nothing: webhooks (they become events) and backtests (a draft rides in the body). */
const READ_ONLY_POSTS = new Set(['/v1/webhooks/*', '/v1/rules/backtest']);

/** Who may call each route (`public`: anyone, no key). HEAD routes follow their GET. */
const EXPECTED: Record<string, Who[] | 'public'> = {
  'GET /v1/health': 'public',
  'POST /v1/webhooks/*': 'public',
  'GET /v1/webhooks/stats': ALL,
  'GET /v1/webhook-auth': ALL,
  'GET /v1/webhook-auth/*': ALL,
  'PUT /v1/webhook-auth/*': ADMIN,
  'DELETE /v1/webhook-auth/*': ADMIN,
  'POST /v1/events': OPS,
  'GET /v1/events': ALL,
  'GET /v1/events/:id': ALL,
  'GET /v1/rules': ALL,
  'POST /v1/rules': OPS,
  'GET /v1/rules/:ref': ALL,
  'PUT /v1/rules/:ref': OPS,
  'DELETE /v1/rules/:ref': OPS,
  'POST /v1/rules/backtest': ALL,
  'GET /v1/actions': ALL,
  'GET /v1/actions/:ref': ALL,
  'GET /v1/triggertypes': ALL,
  'GET /v1/triggertypes/:ref': ALL,
  'POST /v1/executions': OPS,
  'GET /v1/executions': ALL,
  'GET /v1/executions/:id': ALL,
  'DELETE /v1/executions/:id': OPS,
  'POST /v1/executions/:id/re-run': OPS,
  'GET /v1/chat/dead-letters': ALL,
  'POST /v1/chat/dead-letters/:id/resend': OPS,
  'GET /v1/executions/:id/output': ALL,
  'GET /v1/enforcements': ALL,
  'GET /v1/packs': ALL,
  'GET /v1/packs/:name': ALL,
  'POST /v1/packs/register': ADMIN,
  'DELETE /v1/packs/:name': ADMIN,
  'GET /v1/packs/:name/config': ALL,
  'PUT /v1/packs/:name/config': ADMIN,
  'POST /v1/apikeys': ADMIN,
  'GET /v1/apikeys': ADMIN,
  'GET /v1/apikeys/:id': ADMIN,
  'DELETE /v1/apikeys/:id': ADMIN,
  'POST /v1/auth/tokens': ALL,
  'GET /v1/auth/whoami': ALL,
  'GET /v1/roles': ADMIN,
  'GET /v1/roles/:name': ADMIN,
  'POST /v1/roles': ADMIN,
  'PUT /v1/roles/:name': ADMIN,
  'DELETE /v1/roles/:name': ADMIN,
  'GET /v1/audit': ADMIN,
  'GET /v1/silences': ALL,
  'POST /v1/silences': OPS,
  'GET /v1/silences/:id': ALL,
  'DELETE /v1/silences/:id': OPS,
  'GET /v1/inhibitions': ALL,
  'POST /v1/inhibitions': OPS,
  'GET /v1/inhibitions/:id': ALL,
  'DELETE /v1/inhibitions/:id': OPS,
  'GET /v1/events/:id/decisions': ALL,
  'PATCH /v1/rules/:ref': OPS,
  'GET /v1/keys': ALL,
  'GET /v1/keys/:scope/:name': ALL,
  'PUT /v1/keys/:scope/:name': OPS,
  'DELETE /v1/keys/:scope/:name': OPS,
  'GET /v1/sensors': ALL,
  'GET /v1/sensors/:ref': ALL,
};

const rule = {
  pack: 'demo',
  name: 'walk',
  trigger: { type: 'core.webhook', parameters: { url: 'walk' } },
  action: { ref: 'core.noop' },
};

let roleCounter = 0;
/** A real execution, so that routes about one execution reach their scope check and handler. */
let executionId = 'nope';
/** A request for a route pattern that gets past validation wherever it can (an allowed caller must never see 401/403). */
function requestFor(method: string, url: string): InjectOptions {
  const path = url
    .replace(':ref', method === 'PUT' ? 'demo.walk' : 'demo.nothing')
    .replace(':id', url.startsWith('/v1/executions') ? executionId : 'nope')
    .replace(':scope', 'system')
    // Pack routes read `core`; DELETE names no pack, so the walk never unregisters one that later routes need.
    .replace(':name', url.startsWith('/v1/packs') ? (method === 'DELETE' ? 'nope-pack' : 'core') : `nope-${roleCounter}`)
    .replace('*', 'walk');
  const bodies: Record<string, unknown> = {
    'POST /v1/webhooks/*': { hello: 'walk' },
    'PUT /v1/webhook-auth/*': { type: 'apikey' },
    'POST /v1/events': { type: 'core.interval', payload: { executed_at: new Date().toISOString(), schedule: {} } },
    'POST /v1/rules': rule,
    'PUT /v1/rules/:ref': rule,
    'POST /v1/rules/backtest': { rule: 'demo.nothing', since: '1h' },
    'PATCH /v1/rules/:ref': { enabled: true },
    'PUT /v1/keys/:scope/:name': { value: 'walk' },
    'POST /v1/executions': { action: 'core.noop' },
    'POST /v1/packs/register': { packs: ['core'] },
    'PUT /v1/packs/:name/config': {},
    'POST /v1/apikeys': { name: 'walker', role: 'viewer' },
    'POST /v1/roles': { name: `walk-${++roleCounter}`, grants: [] },
    'PUT /v1/roles/:name': { name: `nope-${roleCounter}`, grants: [] },
  };
  const body = bodies[`${method} ${url}`];
  return { method: method as InjectOptions['method'], url: path, ...(body === undefined ? {} : { payload: body as object }) };
}

describe('every route, every role', () => {
  let t: TestApi;
  const keys: Record<Who | 'nobody', string> = { admin: '', operator: '', viewer: '', nobody: '' };
  const routes = (): Array<{ method: string; url: string }> =>
    t.app.reflexRoutes.filter((r) => !r.url.startsWith('/docs')).map((r) => ({ method: r.method, url: r.url }));

  beforeAll(async () => {
    t = await startTestApi({ auth: true });
    keys.admin = t.adminKey;
    keys.operator = await makeKey(t.store, 'operator');
    keys.viewer = await makeKey(t.store, 'viewer');
    await t.store.roles.put({ name: 'nothing', grants: [], createdAt: new Date().toISOString(), updatedAt: new Date().toISOString() });
    keys.nobody = await makeKey(t.store, 'nothing');
    const run = await t.app.inject({ method: 'POST', url: '/v1/executions', payload: { action: 'core.noop' }, headers: bearer(t.adminKey) });
    executionId = run.json().id;
  });

  afterAll(async () => {
    await t.close();
  });

  it('every registered route declares a permission, and the table knows every route', () => {
    const undeclared = t.app.reflexRoutes.filter((r) => r.permission === undefined).map((r) => `${r.method} ${r.url}`);
    expect(undeclared).toEqual([]);
    const unknown = routes()
      .map((r) => `${r.method === 'HEAD' ? 'GET' : r.method} ${r.url}`)
      .filter((k) => !(k in EXPECTED));
    expect(unknown, 'add these routes to EXPECTED').toEqual([]);
    // Every change is audited: a route that writes declares an audit action (webhooks become events; tokens are audited too).
    const unaudited = t.app.reflexRoutes
      .filter((r) => ['POST', 'PUT', 'DELETE', 'PATCH'].includes(r.method) && r.audit === undefined && !READ_ONLY_POSTS.has(r.url))
      .map((r) => `${r.method} ${r.url}`);
    expect(unaudited).toEqual([]);
  });

  it('walks every route with no key, each built-in role and a role that grants nothing', async () => {
    let checked = 0;
    for (const { method, url } of routes()) {
      const expected = EXPECTED[`${method === 'HEAD' ? 'GET' : method} ${url}`];
      for (const who of ['anonymous', ...ALL, 'nobody'] as const) {
        const headers = who === 'anonymous' ? {} : bearer(keys[who]);
        const res = await t.app.inject({ ...requestFor(method, url), headers });
        const allowed = expected === 'public' || (who !== 'anonymous' && who !== 'nobody' && expected?.includes(who) === true);
        const authenticatedOnly = expected !== 'public' && expected?.length === 3 && url.startsWith('/v1/auth/');
        checked++;
        if (allowed || (who === 'nobody' && authenticatedOnly)) {
          expect([401, 403], `${who} ${method} ${url} → ${res.statusCode} ${res.body}`).not.toContain(res.statusCode);
          expect(res.statusCode, `${who} ${method} ${url}`).toBeLessThan(500);
        } else if (who === 'anonymous') {
          expect(res.statusCode, `${method} ${url} without a key`).toBe(401);
          expect(res.headers['www-authenticate']).toBe('Bearer realm="reflex"');
          if (method !== 'HEAD') expect(res.json().error.code).toBe('UNAUTHENTICATED');
        } else {
          expect(res.statusCode, `${who} ${method} ${url} → ${res.body}`).toBe(403);
          if (method !== 'HEAD') expect(res.json().error.code).toBe('FORBIDDEN');
        }
      }
    }
    expect(checked).toBeGreaterThan(300);
    process.stdout.write(`[rbac walk] ${routes().length} routes × 5 callers = ${checked} requests checked\n`);
  });

  it('answers an unknown route with 401 to a stranger and 404 to a key holder', async () => {
    expect((await t.app.inject({ url: '/v1/nowhere' })).statusCode).toBe(401);
    expect((await t.app.inject({ url: '/v1/nowhere', headers: bearer(keys.viewer) })).statusCode).toBe(404);
  });

  it('serves the docs without a key', async () => {
    expect((await t.app.inject({ url: '/docs/json' })).statusCode).toBe(200);
    expect((await t.app.inject({ url: '/docs' })).statusCode).toBeLessThan(400);
  });
});

describe('a route that declares no permission', () => {
  it('is closed to everyone, admin included (fail closed)', async () => {
    const t = await startTestApi({ auth: true });
    try {
      t.app.get('/v1/forgotten', async () => ({ secret: 'data' }));
      const res = await t.app.inject({ url: '/v1/forgotten', headers: bearer(t.adminKey) });
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe('ROUTE_UNDECLARED');
      expect((await t.app.inject({ url: '/v1/forgotten' })).statusCode).toBe(401);
    } finally {
      await t.close();
    }
  });
});
