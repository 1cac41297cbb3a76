/** `reflex trigger list|get`, `reflex action list|get`, `reflex whoami`, `reflex apikey create|list|revoke`. */
import type { Command } from 'commander';
import type { Action } from '@reflex/model';
import type { CliContext } from '../context.ts';
import { shortTime, UsageError } from '../output.ts';
import { act, type Session } from '../session.ts';

/** `name (string, required)` for each parameter of an action. */
function parameterSummary(action: Action): string {
  const schema = action.parametersSchema as { properties?: Record<string, { type?: unknown; secret?: unknown }>; required?: string[] };
  return Object.entries(schema.properties ?? {})
    .map(([name, p]) => {
      const flags = [typeof p.type === 'string' ? p.type : undefined, schema.required?.includes(name) === true ? 'required' : undefined, p.secret === true ? 'secret' : undefined];
      const shown = flags.filter((f) => f !== undefined).join(', ');
      return shown === '' ? name : `${name} (${shown})`;
    })
    .join(', ');
}

export function catalogCommands(program: Command, ctx: CliContext): void {
  const trigger = program.command('trigger').description('trigger types: kinds of events');
  trigger
    .command('list')
    .description('registered trigger types')
    .option('--pack <pack>')
    .action(
      act(ctx, async (s: Session, opts: { pack?: string }) => {
        const { items } = await s.client.triggerTypes.list(opts.pack === undefined ? {} : { pack: opts.pack });
        if (s.json) return s.out.data(items);
        s.out.table(items, [
          { header: 'REF', value: (t) => t.ref },
          { header: 'DESCRIPTION', value: (t) => t.description ?? '', max: 80 },
        ]);
      }),
    );
  trigger
    .command('get')
    .description('one trigger type, with its schemas')
    .argument('<ref>')
    .action(
      act(ctx, async (s: Session, ref: string) => {
        const found = await s.client.triggerTypes.get(ref);
        if (s.json) s.out.data(found);
        else s.out.yaml(found);
      }),
    );

  const action = program.command('action').description('actions: what Reflex can do (run one with reflex run)');
  action
    .command('list')
    .description('registered actions')
    .option('--pack <pack>')
    .action(
      act(ctx, async (s: Session, opts: { pack?: string }) => {
        const { items } = await s.client.actions.list(opts.pack === undefined ? {} : { pack: opts.pack });
        if (s.json) return s.out.data(items);
        s.out.table(items, [
          { header: 'REF', value: (a) => a.ref },
          { header: 'RUNNER', value: (a) => a.runner },
          { header: 'PARAMETERS', value: parameterSummary, max: 70 },
          { header: 'DESCRIPTION', value: (a) => a.description ?? '', max: 60 },
        ]);
      }),
    );
  action
    .command('get')
    .description('one action, with its parameters schema')
    .argument('<ref>')
    .action(
      act(ctx, async (s: Session, ref: string) => {
        const found = await s.client.actions.get(ref);
        if (s.json) s.out.data(found);
        else s.out.yaml(found);
      }),
    );

  program
    .command('whoami')
    .description('the key this command uses: its name, role and grants')
    .action(
      act(ctx, async (s: Session) => {
        const me = await s.client.auth.whoami();
        if (s.json) return s.out.data(me);
        s.out.fields([
          ['name', me.name],
          ['kind', me.kind],
          ['id', me.id],
          ['role', me.role],
          ['grants', me.grants.map((g) => `${g.permissions.join(' ')}${g.scope === undefined ? '' : ` on ${g.scope.join(' ')}`}`).join('; ')],
        ]);
      }),
    );

  const apikey = program.command('apikey').description('API keys (admin): create, list, revoke');
  apikey
    .command('create')
    .description('make a key; it is shown once')
    .argument('<name>')
    .requiredOption('--role <role>', 'admin, operator, viewer, or a custom role')
    .option('--expires <time>', 'when it stops working (ISO-8601)')
    .action(
      act(ctx, async (s: Session, name: string, opts: { role: string; expires?: string }) => {
        let expiresAt: string | undefined;
        if (opts.expires !== undefined) {
          const at = Date.parse(opts.expires);
          if (Number.isNaN(at)) throw new UsageError(`--expires '${opts.expires}' is not a time (2025-01-31T00:00:00Z)`);
          expiresAt = new Date(at).toISOString();
        }
        const created = await s.client.apiKeys.create({ name, role: opts.role, ...(expiresAt === undefined ? {} : { expiresAt }) });
        if (s.json) return s.out.data(created);
        s.out.line(created.key);
        s.out.note(`key ${created.id} (${created.name}, role ${created.role}): shown this once, store it now`, 'yellow');
      }),
    );
  apikey
    .command('list')
    .description('keys, oldest first (never their secrets)')
    .option('--all', 'include revoked keys')
    .action(
      act(ctx, async (s: Session, opts: { all?: boolean }) => {
        const { items } = await s.client.apiKeys.list(opts.all === true ? { includeRevoked: true } : {});
        if (s.json) return s.out.data(items);
        s.out.table(items, [
          { header: 'ID', value: (k) => k.id },
          { header: 'NAME', value: (k) => k.name },
          { header: 'ROLE', value: (k) => k.role },
          { header: 'CREATED', value: (k) => shortTime(k.createdAt) },
          { header: 'EXPIRES', value: (k) => shortTime(k.expiresAt) },
          { header: 'REVOKED', value: (k) => shortTime(k.revokedAt), colour: () => 'red' },
        ]);
      }),
    );
  apikey
    .command('revoke')
    .description('revoke a key (and its tokens) at once')
    .argument('<id>')
    .action(
      act(ctx, async (s: Session, id: string) => {
        const revoked = await s.client.apiKeys.revoke(id);
        if (s.json) return s.out.data(revoked);
        s.out.line(`${revoked.id} (${revoked.name}) revoked`);
      }),
    );
}
