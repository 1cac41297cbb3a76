/** `reflex pack validate`: counts what each pack has (sensors, policies and aliases only when there are some). */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliContext } from './context.ts';
import { createProgram, runProgram } from './index.ts';

function buffer(): { write: (t: string) => boolean; isTTY: boolean; text: () => string } {
  let text = '';
  return { write: (t: string) => ((text += t), true), isTTY: false, text: () => text };
}

describe('pack validate', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'reflex-cli-validate-'));
  afterAll(() => rmSync(cwd, { recursive: true, force: true }));
  const examples = join(import.meta.dirname, '..', '..', '..', 'packs', 'examples');

  const run = async (argv: string[]): Promise<{ code: number; stdout: string }> => {
    const stdout = buffer();
    const ctx: CliContext = {
      io: { stdout, stderr: buffer() },
      settings: { defaultUrl: 'http://api.test:1', dataDir: cwd, noColor: true, cwd, apiKey: 'rfx_test' },
      fetch: (async () => new Response('{}', { status: 500 })) as typeof fetch,
      exitCode: 0,
    };
    const code = await runProgram(createProgram(ctx), ctx, ['node', 'reflex', ...argv]);
    return { code, stdout: stdout.text() };
  };

  it('prints the number of policies and aliases, like sensors, only when a pack has some', async () => {
    mkdirSync(join(cwd, 'plain', 'actions'), { recursive: true });
    writeFileSync(join(cwd, 'plain', 'pack.yaml'), 'name: plain\nversion: 1.0.0\n');
    writeFileSync(join(cwd, 'plain', 'actions', 'a.yaml'), 'name: a\nrunner_type: noop\n');

    const text = await run(['pack', 'validate', examples, 'plain']);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain('✓ examples 0.1.0: 0 trigger types, 2 actions, 1 rule, 1 policy, 1 alias\n');
    expect(text.stdout).toContain('✓ plain 1.0.0: 0 trigger types, 1 action, 0 rules\n');

    const json = await run(['--json', 'pack', 'validate', examples]);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true, packs: [{ pack: 'examples', counts: { actions: 2, rules: 1, sensors: 0, policies: 1, aliases: 1 } }] });
  });
});
