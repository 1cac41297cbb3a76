import { existsSync } from 'node:fs';
import { readFile, realpath, symlink } from 'node:fs/promises';
import path from 'node:path';
import { NonRetriableError } from '@reflex/model';
import { describe, expect, it } from 'vitest';
import { ActionCanceledError, ActionFailedError, ActionTimeoutError, resultOf, retryHintOf } from './errors.ts';
import { createShellCommandRunner, createShellScriptRunner, DEFAULT_PATH, type ShellResult } from './shell.ts';
import { context, EXAMPLES_PACK, eventually, isGone, nulSeparated, request, tempDir } from './test-helpers.ts';

const local = createShellCommandRunner();
const script = createShellScriptRunner();

const cmd = (parameters: Parameters<typeof request>[1], ctx = context()) => local.run(request('local-shell-cmd', parameters), ctx) as Promise<ShellResult>;

/** Rejection of `promise`, which must reject. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

/** Strings that would do something if they ever reached a shell as code. Each tries to create `marker`. */
function hostile(marker: string): string[] {
  return [
    `; touch ${marker}`,
    `$(touch ${marker})`,
    `\`touch ${marker}\``,
    `| touch ${marker}`,
    `&& touch ${marker} &&`,
    `> ${marker}`,
    `x\ntouch ${marker}\n`,
    `'; touch ${marker}; echo '`,
    `"; touch ${marker}; echo "`,
    `\${IFS}touch\${IFS}${marker}`,
    `; rm -rf / --no-preserve-root`,
    '-rf',
    '*',
    '~',
    '$HOME',
    '',
    'ünïcødé ✓ \t tab',
  ];
}

describe('local-shell-cmd', () => {
  it('runs a command with its args and returns exit code and output', async () => {
    const result = await cmd({ cmd: 'echo', args: ['hello', 'world', 42, true] });
    expect(result).toEqual({
      exitCode: 0,
      signal: null,
      stdout: 'hello world 42 true\n',
      stderr: '',
      stdoutTruncated: false,
      stderrTruncated: false,
      succeeded: true,
    });
  });

  it('fails on a non-zero exit with the result attached', async () => {
    const err = await failure(cmd({ cmd: 'echo out; echo oops >&2; exit 3', shell: true }));
    expect(err).toBeInstanceOf(ActionFailedError);
    expect(err).toMatchObject({ code: 'ACTION_FAILED', retriable: true });
    expect(err.message).toBe('shell script exited with code 3: oops');
    expect(resultOf(err)).toEqual({
      exitCode: 3,
      signal: null,
      stdout: 'out\n',
      stderr: 'oops\n',
      stdoutTruncated: false,
      stderrTruncated: false,
      succeeded: false,
    });
  });

  it('reports a process killed by a signal', async () => {
    const err = await failure(cmd({ cmd: 'kill -9 $$', shell: true }));
    expect(err).toBeInstanceOf(ActionFailedError);
    expect(err.message).toBe('shell script was killed by SIGKILL');
    expect(resultOf(err)).toMatchObject({ exitCode: null, signal: 'SIGKILL', succeeded: false });
  });

  it('passes hostile argv and env values through as inert bytes', async () => {
    await using dir = await tempDir();
    const marker = path.join(dir.path, 'pwned');
    const values = hostile(marker);
    const env = Object.fromEntries(values.map((v, i) => [`EVIL_${i}`, v]));

    const argv = await cmd({ cmd: 'printf', args: ['%s\\0', ...values], cwd: dir.path });
    expect(nulSeparated(argv.stdout)).toEqual(values);

    const printed = await cmd({ cmd: 'env', args: ['-0'], env, cwd: dir.path });
    const seen = Object.fromEntries(nulSeparated(printed.stdout).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    for (const [k, v] of Object.entries(env)) expect(seen[k]).toBe(v);

    expect(existsSync(marker)).toBe(false);
  });

  it('in shell mode, hands hostile data to the script as positional parameters and variables only', async () => {
    await using dir = await tempDir();
    const marker = path.join(dir.path, 'pwned');
    const values = hostile(marker);
    const result = await cmd({
      cmd: 'printf "%s\\0" "$@"; printf "%s\\0" "$EVIL" "$PARAM_NOTE"',
      shell: true,
      args: values,
      env: { EVIL: values.join('\n') },
      cwd: dir.path,
    });
    expect(nulSeparated(result.stdout)).toEqual([...values, values.join('\n'), '']);
    expect(existsSync(marker)).toBe(false);
  });

  it('never inherits the runner’s environment', async () => {
    process.env['REFLEX_RUNNERS_TEST_SECRET'] = 's3cret';
    try {
      const result = await cmd({ cmd: 'env', args: ['-0'], env: { MINE: 'yes' } });
      const names = nulSeparated(result.stdout).map((kv) => kv.slice(0, kv.indexOf('=')));
      expect(names).not.toContain('REFLEX_RUNNERS_TEST_SECRET');
      expect(names.filter((n) => !n.startsWith('REFLEX_')).sort()).toEqual(['MINE', 'PATH']);
      expect(nulSeparated(result.stdout)).toContain(`PATH=${DEFAULT_PATH}`);
      expect(nulSeparated(result.stdout)).toContain('REFLEX_EXECUTION_ID=ex-test-1');
    } finally {
      delete process.env['REFLEX_RUNNERS_TEST_SECRET'];
    }
  });

  it('uses the base environment it is given, cwd, and stdin', async () => {
    await using dir = await tempDir();
    const runner = createShellCommandRunner({ baseEnv: { PATH: DEFAULT_PATH, GREETING: 'hi' } });
    const result = (await runner.run(
      request('local-shell-cmd', { cmd: 'echo "$GREETING from $(pwd)"; cat', shell: true, cwd: dir.path, stdin: 'line 1\nline 2' }),
      context(),
    )) as ShellResult;
    expect(result.stdout).toBe(`hi from ${await realpath(dir.path)}\nline 1\nline 2`);
  });

  it('streams output line by line, per stream, and keeps the last partial line', async () => {
    const ctx = context();
    await cmd({ cmd: 'echo a; echo b >&2; printf "c\\r\\nd"; echo e >&2', shell: true }, ctx);
    expect(ctx.lines.filter(([s]) => s === 'stdout').map(([, l]) => l)).toEqual(['a', 'c', 'd']);
    expect(ctx.lines.filter(([s]) => s === 'stderr').map(([, l]) => l)).toEqual(['b', 'e']);
  });

  it('caps each stream, flags the truncation and says so once in the live output', async () => {
    const ctx = context({ limits: { outputBytes: 1000, killGraceMs: 300 } });
    const result = await cmd({ cmd: 'head -c 100000 /dev/zero | tr "\\0" a; echo small >&2', shell: true }, ctx);
    expect(result.stdout).toBe('a'.repeat(1000));
    expect(result).toMatchObject({ stdoutTruncated: true, stderr: 'small\n', stderrTruncated: false, succeeded: true });
    const out = ctx.lines.filter(([s]) => s === 'stdout').map(([, l]) => l);
    expect(out).toEqual(['a'.repeat(1000), '[reflex] stdout truncated: more than 1000 bytes']);
  });

  it('cuts truncated output on a character boundary', async () => {
    const ctx = context({ limits: { outputBytes: 5 } });
    const result = await cmd({ cmd: 'printf', args: ['ééé'] }, ctx); // 6 bytes
    expect(result).toMatchObject({ stdout: 'éé', stdoutTruncated: true });
  });

  it('stops a command at its timeout with SIGTERM and keeps what it wrote', async () => {
    const started = Date.now();
    const err = await failure(cmd({ cmd: 'echo started; sleep 30', shell: true, timeout: 0.3 }));
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(err).toMatchObject({ code: 'TIMEOUT' });
    expect(err.message).toBe('shell script timed out after 300ms; stopped (SIGTERM)');
    expect(resultOf(err)).toMatchObject({ exitCode: null, signal: 'SIGTERM', stdout: 'started\n', succeeded: false });
    expect(Date.now() - started).toBeLessThan(3000);
    expect(retryHintOf(err)).toEqual({ retriable: true });
  });

  it('escalates to SIGKILL when SIGTERM is ignored, and stops the whole process group', async () => {
    await using dir = await tempDir();
    const pidFile = path.join(dir.path, 'pid');
    const started = Date.now();
    const err = await failure(
      cmd(
        { cmd: `trap "" TERM; sleep 30 & echo $! > "${pidFile}"; echo ready; wait`, shell: true },
        context({ timeoutMs: 300, limits: { killGraceMs: 300 } }),
      ),
    );
    expect(err).toBeInstanceOf(ActionTimeoutError);
    expect(resultOf(err)).toMatchObject({ signal: 'SIGKILL', stdout: 'ready\n' });
    expect(Date.now() - started).toBeLessThan(3000);
    const grandchild = Number(await readFile(pidFile, 'utf8'));
    expect(await eventually(() => isGone(grandchild))).toBe(true);
  });

  it('takes the shorter of the timeout parameter and the context time limit', async () => {
    const err = await failure(cmd({ cmd: 'sleep', args: ['30'], timeout: 60 }, context({ timeoutMs: 200 })));
    expect(err.message).toBe("command 'sleep' timed out after 200ms; stopped (SIGTERM)");
  });

  it('stops on cancel, and on an abort whose reason is a timeout', async () => {
    const canceled = new AbortController();
    setTimeout(() => canceled.abort(new Error('user canceled')), 200);
    const err = await failure(cmd({ cmd: 'sleep', args: ['30'] }, context({ signal: canceled.signal })));
    expect(err).toBeInstanceOf(ActionCanceledError);
    expect(err).toMatchObject({ code: 'CANCELED' });
    expect(retryHintOf(err)).toEqual({ retriable: false });

    const timedOut = await failure(cmd({ cmd: 'sleep', args: ['30'] }, context({ signal: AbortSignal.timeout(200) })));
    expect(timedOut).toBeInstanceOf(ActionTimeoutError);

    const before = new AbortController();
    before.abort();
    await expect(cmd({ cmd: 'touch', args: ['/nonexistent/never'] }, context({ signal: before.signal }))).rejects.toBeInstanceOf(ActionCanceledError);
  });

  it('does not wait for a background process that keeps its output open', async () => {
    const started = Date.now();
    const result = await cmd({ cmd: 'sleep 3 & echo done', shell: true });
    expect(result.stdout).toBe('done\n');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('refuses bad parameters and unknown commands as not retriable', async () => {
    const cases: Array<[Parameters<typeof request>[1], string, RegExp]> = [
      [{}, 'INVALID_PARAMETERS', /parameters\.cmd is required/],
      [{ cmd: 'echo', args: [{ a: 1 }] }, 'INVALID_PARAMETERS', /parameters\.args\.0/],
      [{ cmd: 'echo', args: ['a\0b'] }, 'INVALID_PARAMETERS', /NUL/],
      [{ cmd: 'echo', env: { 'BAD-NAME': 'x' } }, 'INVALID_PARAMETERS', /parameters\.env/],
      [{ cmd: 'echo', timeout: 0 }, 'INVALID_PARAMETERS', /parameters\.timeout/],
      [{ cmd: 'echo', cwd: '/nonexistent/dir' }, 'INVALID_CWD', /nonexistent/],
      [{ cmd: 'no-such-command-reflex' }, 'COMMAND_NOT_FOUND', /not found/],
    ];
    for (const [parameters, code, message] of cases) {
      const err = await failure(cmd(parameters));
      expect(err, JSON.stringify(parameters)).toBeInstanceOf(NonRetriableError);
      expect(err, JSON.stringify(parameters)).toMatchObject({ code });
      expect(err.message).toMatch(message);
    }
  });
});

describe('local-shell-script', () => {
  it('runs the examples pack script with its parameters as PARAM_* variables', async () => {
    const ok = (await script.run(
      request('local-shell-script', { path: '/', threshold: 101, timeout: 10 }, { entryPoint: 'actions/disk_usage.sh', pack: 'examples' }),
      context({ packDir: EXAMPLES_PACK }),
    )) as ShellResult;
    expect(JSON.parse(ok.stdout)).toEqual({ used_percent: expect.any(Number), threshold: 101 });

    const err = await failure(
      script.run(request('local-shell-script', { path: '/', threshold: 0 }, { entryPoint: 'actions/disk_usage.sh', pack: 'examples' }), context({ packDir: EXAMPLES_PACK })),
    );
    expect(err).toBeInstanceOf(ActionFailedError);
    expect(err.message).toMatch(/^script 'actions\/disk_usage.sh' exited with code 1: the filesystem holding \/ is \d+% full \(threshold 0%\)$/);
  });

  it('passes args as argv, other parameters as PARAM_* and REFLEX_PARAMETERS, runs in the pack folder', async () => {
    await using pack = await tempDir();
    await pack.write({
      'actions/show.sh': '#!/bin/sh\nprintf "%s\\0" "$@" "$PARAM_TEXT" "$PARAM_COUNT" "$PARAM_TAGS" "$PARAM_NOTHING" "$PARAM_DASHED_NAME" "$REFLEX_PARAMETERS" "$REFLEX_PACK_DIR" "$(pwd)"\n',
    });
    const marker = path.join(pack.path, 'pwned');
    const text = hostile(marker).join('\n');
    const parameters = { text, count: 3, tags: ['a', 'b'], nothing: null, 'dashed-name': 'ok', args: ['--flag', `$(touch ${marker})`], timeout: 5 };
    const result = (await script.run(request('local-shell-script', parameters, { entryPoint: 'actions/show.sh' }), context({ packDir: pack.path }))) as ShellResult;
    const real = await realpath(pack.path);
    const own = { text, count: 3, tags: ['a', 'b'], nothing: null, 'dashed-name': 'ok' };
    expect(nulSeparated(result.stdout)).toEqual(['--flag', `$(touch ${marker})`, text, '3', '["a","b"]', '', 'ok', JSON.stringify(own), real, real]);
    expect(existsSync(marker)).toBe(false);
  });

  it('refuses entry points outside the pack, missing, or not executable', async () => {
    await using pack = await tempDir();
    await using outside = await tempDir();
    await outside.write({ 'evil.sh': '#!/bin/sh\necho evil\n' });
    await pack.write({ 'actions/plain.txt': 'echo not executable\n' });
    await symlink(path.join(outside.path, 'evil.sh'), path.join(pack.path, 'actions', 'link.sh'));
    const cases: Array<[string | undefined, string, RegExp]> = [
      ['../../evil.sh', 'ENTRY_POINT_INVALID', /outside its pack/],
      [path.join(outside.path, 'evil.sh'), 'ENTRY_POINT_INVALID', /relative/],
      ['actions/link.sh', 'ENTRY_POINT_INVALID', /symlink/],
      ['actions/missing.sh', 'ENTRY_POINT_INVALID', /does not exist/],
      ['actions', 'ENTRY_POINT_INVALID', /not a file/],
      [undefined, 'ENTRY_POINT_INVALID', /no entry_point/],
      ['actions/plain.txt', 'NOT_EXECUTABLE', /chmod \+x/],
    ];
    for (const [entryPoint, code, message] of cases) {
      const req = request('local-shell-script', {}, entryPoint === undefined ? {} : { entryPoint });
      const err = await failure(script.run(req, context({ packDir: pack.path })));
      expect(err, entryPoint).toBeInstanceOf(NonRetriableError);
      expect(err, entryPoint).toMatchObject({ code });
      expect(err.message, entryPoint).toMatch(message);
    }
    await expect(script.run(request('local-shell-script', {}, { entryPoint: 'actions/plain.txt' }), context())).rejects.toMatchObject({ code: 'PACK_DIR_UNKNOWN' });
  });

  it('refuses two parameters that would share one variable', async () => {
    await using pack = await tempDir();
    await pack.write({ 'a.sh': '#!/bin/sh\n' });
    const err = await failure(script.run(request('local-shell-script', { 'a-b': 1, a_b: 2 }, { entryPoint: 'a.sh' }), context({ packDir: pack.path })));
    expect(err).toMatchObject({ code: 'INVALID_PARAMETERS' });
    expect(err.message).toMatch(/PARAM_A_B/);
  });
});
