/**
 * Pack configuration from end to end, in one embedded process: values from `<configDir>/<pack>.yaml`
 * (defaults filled in, a secret sealed) reach a `nodejs` action as `ctx.config`; the API shows the
 * secret masked; a PUT through the API applies to the next run.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launch, SERVICE_NAMES, type Launched } from '@reflex/launcher';
import { loadConfig } from '@reflex/runtime';
import { adminKeyOf, apiClient } from '../support/api-client.ts';
import { waitFor } from '../support/wait.ts';

const PACK = 'cfgdemo';

function writePack(root: string): void {
  const dir = join(root, PACK);
  mkdirSync(join(dir, 'actions'), { recursive: true });
  writeFileSync(join(dir, 'pack.yaml'), `name: ${PACK}\nversion: 1.0.0\n`);
  writeFileSync(
    join(dir, 'config.schema.yaml'),
    ['region:', '  type: string', '  required: true', 'retries:', '  type: integer', '  default: 3', 'token:', '  type: string', '  secret: true', ''].join('\n'),
  );
  writeFileSync(join(dir, 'actions', 'show.yaml'), 'name: show\nrunner_type: nodejs\nentry_point: show.ts\n');
  // Returns what it saw of the secret without returning the secret itself.
  writeFileSync(
    join(dir, 'actions', 'show.ts'),
    `export default async function show(_params: unknown, ctx: { config: Record<string, unknown> }) {
  const token = ctx.config['token'];
  return { region: ctx.config['region'], retries: ctx.config['retries'], tokenOk: token === 's3cret-token' };
}
`,
  );
}

interface Execution {
  id: string;
  status: string;
  result?: { region?: string; retries?: number; tokenOk?: boolean };
}

describe('pack configuration reaches actions, embedded', () => {
  let dataDir: string;
  let reflex: Launched;
  let api: ReturnType<typeof apiClient>;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'reflex-e2e-packcfg-'));
    const packs = join(dataDir, 'packs');
    const configDir = join(dataDir, 'config');
    mkdirSync(configDir, { recursive: true });
    writePack(packs);
    writeFileSync(join(configDir, `${PACK}.yaml`), 'region: eu-west-1\ntoken: s3cret-token\n');
    const config = loadConfig({}, { port: 0, dataDir, packsPaths: [packs], configDir, logLevel: 'silent' });
    reflex = await launch(config, SERVICE_NAMES, pino({ level: 'silent' }));
    api = apiClient(reflex.url ?? '', adminKeyOf(dataDir));
  });

  afterAll(async () => {
    await reflex?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  });

  const run = async (): Promise<Execution> => {
    const started = await api.post<{ id: string }>('/v1/executions', { action: `${PACK}.show`, parameters: {} });
    expect(started.status).toBe(201);
    return await waitFor(async () => {
      const got = await api.get<Execution>(`/v1/executions/${started.body.id}`);
      return ['succeeded', 'failed'].includes(got.body.status) ? got.body : undefined;
    }, 'the execution to finish');
  };

  it('hands file values, defaults and the opened secret to the action; the API masks the secret', async () => {
    const shown = await api.get<Record<string, unknown>>(`/v1/packs/${PACK}/config`);
    expect(shown.status).toBe(200);
    expect(JSON.stringify(shown.body)).not.toContain('s3cret-token');
    expect(JSON.stringify(shown.body)).toContain('eu-west-1');

    const first = await run();
    expect(first).toMatchObject({ status: 'succeeded', result: { region: 'eu-west-1', retries: 3, tokenOk: true } });
  });

  it('applies values PUT through the API to the next run, and refuses a bad one naming the field', async () => {
    const bad = await api.put<{ error?: { message?: string } }>(`/v1/packs/${PACK}/config`, { region: 'us-east-2', retries: 'many' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('retries');

    const ok = await api.put(`/v1/packs/${PACK}/config`, { region: 'us-east-2', retries: 5, token: '********' });
    expect(ok.status).toBe(200);
    const second = await run();
    expect(second).toMatchObject({ status: 'succeeded', result: { region: 'us-east-2', retries: 5, tokenOk: true } });
  });
});
