/** `reflex key get|set|list|delete`: the datastore (`system`, or a pack's `pack:<name>` scope). */
import type { Command } from 'commander';
import { kvScopeOfPack, parseKvScope, SECRET_MASK, type KeyInput, type KeyView } from '@reflex/model';
import { parseDuration, parseValue, readAll } from '../args.ts';
import type { CliContext } from '../context.ts';
import { cell, shortTime, UsageError } from '../output.ts';
import { act, type Session } from '../session.ts';

interface ScopeOptions {
  scope?: string;
  pack?: string;
}

function scopeOf(opts: ScopeOptions): string {
  if (opts.scope !== undefined && opts.pack !== undefined) throw new UsageError('--scope and --pack exclude each other');
  const scope = opts.pack !== undefined ? kvScopeOfPack(opts.pack) : (opts.scope ?? 'system');
  try {
    parseKvScope(scope, '--scope');
  } catch (err) {
    throw new UsageError(`--scope must be system or pack:<name> (got '${scope}')`, [], { cause: err });
  }
  return scope;
}

const withScope = (command: Command): Command =>
  command.option('--scope <scope>', 'system (default) or pack:<name>').option('--pack <name>', 'the pack’s scope: same as --scope pack:<name>');

/** For people: the value itself (text as it is, other JSON as JSON), so `$(reflex key get x)` works. */
function plain(view: KeyView): string {
  return typeof view.value === 'string' ? view.value : JSON.stringify(view.value);
}

export function keyCommands(program: Command, ctx: CliContext): void {
  const key = program.command('key').description('the datastore: values (any JSON) and secrets that rules and actions read');

  withScope(key.command('list').description('keys of a scope, by name (secrets masked)'))
    .option('--prefix <text>', 'only names starting with this')
    .option('--decrypt', 'show secrets (needs keys:decrypt)')
    .action(
      act(ctx, async (s: Session, opts: ScopeOptions & { prefix?: string; decrypt?: boolean }) => {
        const { items } = await s.client.keys.list({
          scope: scopeOf(opts),
          ...(opts.prefix === undefined ? {} : { prefix: opts.prefix }),
          ...(opts.decrypt === true ? { decrypt: true } : {}),
        });
        if (s.json) return s.out.data(items);
        s.out.table(items, [
          { header: 'NAME', value: (k) => k.name },
          { header: 'VALUE', value: (k) => cell(k.value), colour: (k) => (k.secret && k.value === SECRET_MASK ? 'dim' : undefined) },
          { header: 'SECRET', value: (k) => (k.secret ? 'yes' : '') },
          { header: 'EXPIRES', value: (k) => shortTime(k.expiresAt) },
        ]);
      }),
    );

  withScope(key.command('get').description('one value (a secret shows as ******** unless --decrypt)'))
    .argument('<name>')
    .option('--decrypt', 'show a secret (needs keys:decrypt)')
    .action(
      act(ctx, async (s: Session, name: string, opts: ScopeOptions & { decrypt?: boolean }) => {
        const view = await s.client.keys.get(scopeOf(opts), name, { decrypt: opts.decrypt === true });
        if (s.json) return s.out.data(view);
        s.out.line(plain(view));
      }),
    );

  withScope(key.command('set').description('set a value: JSON when it parses (3, true, {"a":1}), else text; - reads it from stdin'))
    .argument('<name>')
    .argument('<value>', 'the value, or - to read it from stdin (keeps secrets out of shell history)')
    .option('--secret', 'encrypt it at rest and mask it everywhere')
    .option('--no-secret', 'store it in the clear (a secret that is replaced stays secret otherwise)')
    .option('--ttl <duration>', 'expire after this long (90s, 15m, 2h, 7d)')
    .option('--expires <time>', 'expire at this time (ISO-8601)')
    .option('--string', 'keep the value as text even when it parses as JSON')
    .action(
      act(ctx, async (s: Session, name: string, value: string, opts: ScopeOptions & { secret?: boolean; ttl?: string; expires?: string; string?: boolean }) => {
        if (opts.ttl !== undefined && opts.expires !== undefined) throw new UsageError('--ttl and --expires exclude each other');
        let text = value;
        if (value === '-') {
          if (s.ctx.io.stdin === undefined) throw new UsageError('no stdin to read the value from');
          text = (await readAll(s.ctx.io.stdin)).replace(/\r?\n$/, '');
        }
        const input: KeyInput = { value: opts.string === true ? text : parseValue(text) };
        if (opts.secret !== undefined) input.secret = opts.secret;
        if (opts.ttl !== undefined) input.ttlSeconds = parseDuration(opts.ttl, '--ttl');
        if (opts.expires !== undefined) {
          const at = Date.parse(opts.expires);
          if (Number.isNaN(at)) throw new UsageError(`--expires '${opts.expires}' is not a time (2025-01-31T00:00:00Z)`);
          input.expiresAt = new Date(at).toISOString();
        }
        const view = await s.client.keys.set(scopeOf(opts), name, input);
        if (s.json) return s.out.data(view);
        const expiry = view.expiresAt === undefined ? '' : `, expires ${shortTime(view.expiresAt)}`;
        s.out.line(`${view.scope}/${view.name} set${view.secret ? ' (secret)' : ''}${expiry}`);
      }),
    );

  withScope(key.command('delete').description('delete a key'))
    .argument('<name>')
    .action(
      act(ctx, async (s: Session, name: string, opts: ScopeOptions) => {
        const scope = scopeOf(opts);
        await s.client.keys.delete(scope, name);
        if (s.json) return s.out.data({ deleted: { scope, name } });
        s.out.line(`${scope}/${name} deleted`);
      }),
    );
}
