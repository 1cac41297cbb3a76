/** `reflex pack list|get|register|delete|config|validate|init`. Validate and init work on local folders, no API needed. */
import { chmod, mkdir, readdir, stat, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import type { Command } from 'commander';
import type { PackConfigView, PackFileError, PackRegistration } from '@reflex/api-client';
import type { JsonObject } from '@reflex/model';
import { isObject, parseAssignments, readDocument } from '../args.ts';
import type { CliContext } from '../context.ts';
import { shortTime, UsageError } from '../output.ts';
import { scaffoldPack } from '../scaffold.ts';
import { act, type Session } from '../session.ts';

/** `core/rules/a.yaml:12 action.ref: unknown action` — the line an author jumps to. */
export function errorLine(error: PackFileError): string {
  const at = error.line === undefined ? error.file : `${error.file}:${error.line}`;
  return `${at}${error.field === '' ? '' : ` ${error.field}`}: ${error.message}`;
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function printErrors(s: Session, errors: readonly PackFileError[]): void {
  for (const e of errors) s.out.line(`  ${errorLine(e)}`);
}

interface Validated {
  dir: string;
  pack: string | null;
  version: string | null;
  ok: boolean;
  counts: { triggerTypes: number; actions: number; rules: number; sensors: number; policies: number; aliases: number };
  errors: PackFileError[];
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

export function packCommands(program: Command, ctx: CliContext): void {
  const pack = program.command('pack').description('packs: list, register, validate, scaffold and test them');

  pack
    .command('list')
    .description('registered packs')
    .action(
      act(ctx, async (s: Session) => {
        const { items } = await s.client.packs.list();
        if (s.json) return s.out.data(items);
        s.out.table(items, [
          { header: 'NAME', value: (p) => p.name },
          { header: 'VERSION', value: (p) => p.version },
          { header: 'REGISTERED', value: (p) => shortTime(p.registeredAt) },
          { header: 'DESCRIPTION', value: (p) => p.description ?? '' },
        ]);
      }),
    );

  pack
    .command('get')
    .description('one registered pack and what it holds')
    .argument('<name>')
    .action(
      act(ctx, async (s: Session, name: string) => {
        const detail = await s.client.packs.get(name);
        if (s.json) return s.out.data(detail);
        s.out.fields([
          ['name', detail.name],
          ['version', detail.version],
          ['description', detail.description],
          ['path', detail.path],
          ['registered', shortTime(detail.registeredAt)],
          ['trigger types', detail.triggerTypes.map((t) => t.ref).join(', ') || '-'],
          ['actions', detail.actions.map((a) => a.ref).join(', ') || '-'],
          ['rules', detail.rules.map((r) => `${r.ref}${r.enabled ? '' : ' (disabled)'}`).join(', ') || '-'],
        ]);
      }),
    );

  pack
    .command('register')
    .description('load packs from disk on the server (REFLEX_PACKS_PATH) and register them; all of them unless named')
    .argument('[names...]', 'only these packs')
    .action(
      act(ctx, async (s: Session, names: string[]) => {
        const { results } = await s.client.packs.register(names.length === 0 ? undefined : names);
        if (results.some((r) => !r.ok)) s.ctx.exitCode = 1;
        if (s.json) return s.out.data(results);
        if (results.length === 0) s.out.note(names.length === 0 ? 'no packs found on the server' : `no pack named ${names.join(', ')} found on the server`, 'yellow');
        for (const r of results as PackRegistration[]) {
          if (r.ok) {
            const { triggerTypes, actions, rules } = r.result;
            s.out.line(`${s.out.paint('✓', 'green')} ${r.pack}: ${plural(triggerTypes, 'trigger type')}, ${plural(actions, 'action')}, ${plural(rules, 'rule')}`);
          } else {
            s.out.line(`${s.out.paint('✗', 'red')} ${r.pack ?? r.dir}: ${plural(r.errors.length, 'error')}, not registered`);
            printErrors(s, r.errors);
          }
        }
      }),
    );

  pack
    .command('delete')
    .alias('unregister')
    .description('unregister a pack: its trigger types, actions, pack rules and configuration values (refused while other packs depend on it; the folder stays on disk)')
    .argument('<name>')
    .action(
      act(ctx, async (s: Session, name: string) => {
        const result = await s.client.packs.delete(name);
        if (s.json) return s.out.data(result);
        const { triggerTypes, actions, rules } = result.removed;
        s.out.line(`${name} unregistered: ${plural(triggerTypes, 'trigger type')}, ${plural(actions, 'action')}, ${plural(rules, 'rule')} removed`);
      }),
    );

  pack
    .command('config')
    .description('a pack’s configuration values (secrets as ********); --set or --file changes them')
    .argument('<name>')
    .option('--set <name=value...>', 'set these properties, keeping the others: JSON when it parses, else text (text for string properties)')
    .option('--file <file>', 'replace every value with those of a YAML or JSON file (--set then applies on top)')
    .action(
      act(ctx, async (s: Session, name: string, opts: { set?: string[]; file?: string }) => {
        let view: PackConfigView;
        if (opts.set === undefined && opts.file === undefined) {
          view = await s.client.packs.config(name);
        } else {
          let values: JsonObject;
          if (opts.file !== undefined) {
            const document = await readDocument(opts.file, s.ctx.settings.cwd);
            if (!isObject(document)) throw new UsageError(`${opts.file} must hold a mapping of property name to value`);
            values = document as JsonObject;
          } else {
            // Secrets come back as ********, which the API reads as "keep the stored value".
            values = (await s.client.packs.config(name)).values;
          }
          if (opts.set !== undefined) {
            const { configSchema } = await s.client.packs.get(name);
            values = { ...values, ...parseAssignments(opts.set, 'property', configSchema) };
          }
          view = await s.client.packs.setConfig(name, values);
        }
        if (s.json) return s.out.data(view);
        if (Object.keys(view.values).length === 0) s.out.note(`${name} has no configuration values`, 'dim');
        else s.out.yaml(view.values);
      }),
    );

  pack
    .command('validate')
    .description('check pack folders on this machine (a pack, or a folder of packs): every error, with file:line and field')
    .argument('[paths...]', 'pack folders, or folders holding packs', ['.'])
    .action(
      act(ctx, async (s: Session, paths: string[]) => {
        const { discoverPacks } = await import('@reflex/packs');
        const dirs = paths.map((p) => resolve(s.ctx.settings.cwd, p));
        for (const [i, dir] of dirs.entries()) if (!(await exists(dir))) throw new UsageError(`${paths[i]}: no such folder`);
        const loaded = await discoverPacks(dirs);
        if (loaded.length === 0) throw new UsageError(`no pack found in ${paths.join(', ')} (a pack folder has a pack.yaml)`);
        const results: Validated[] = loaded.map((p) => ({
          dir: p.dir,
          pack: p.manifest?.name ?? null,
          version: p.manifest?.version ?? null,
          ok: p.errors.length === 0,
          counts: {
            triggerTypes: p.triggerTypes.length,
            actions: p.actions.length,
            rules: p.rules.length,
            sensors: p.sensors.length,
            policies: p.policies.length,
            aliases: p.aliases.length,
          },
          errors: p.errors,
        }));
        if (results.some((r) => !r.ok)) s.ctx.exitCode = 1;
        if (s.json) return s.out.data({ ok: results.every((r) => r.ok), packs: results });
        for (const r of results) {
          const name = r.pack ?? relative(s.ctx.settings.cwd, r.dir);
          if (r.ok) {
            const { triggerTypes, actions, rules, sensors, policies, aliases } = r.counts;
            // Sensors, policies and aliases are named only when the pack has some.
            const optional = [plural(sensors, 'sensor'), plural(policies, 'policy', 'policies'), plural(aliases, 'alias', 'aliases')].filter((text) => !text.startsWith('0 '));
            const counts = [plural(triggerTypes, 'trigger type'), plural(actions, 'action'), plural(rules, 'rule'), ...optional].join(', ');
            s.out.line(`${s.out.paint('✓', 'green')} ${name} ${r.version ?? ''}: ${counts}`);
          } else {
            s.out.line(`${s.out.paint('✗', 'red')} ${name}: ${plural(r.errors.length, 'error')}`);
            printErrors(s, r.errors);
          }
        }
        if (results.some((r) => r.ok)) s.out.note('references to other packs (core.webhook, …) are checked when the pack is registered', 'dim');
      }),
    );

  pack
    .command('init')
    .description('scaffold a pack that passes validation and its tests: pack.yaml, an action, a rule, test cases, a sample event and a README')
    .argument('<name>', 'the pack name (lower-case letters, digits, _ and -)')
    .option('--dir <folder>', 'where to create it (default: ./<name>)')
    .option('--description <text>', 'the pack’s description')
    .action(
      act(ctx, async (s: Session, name: string, opts: { dir?: string; description?: string }) => {
        const files = scaffoldPack(name, opts.description === undefined ? {} : { description: opts.description });
        const root = resolve(s.ctx.settings.cwd, opts.dir ?? name);
        if ((await exists(root)) && (await readdir(root)).length > 0) throw new UsageError(`${opts.dir ?? name} exists and is not empty: choose another --dir`);
        for (const file of files) {
          const path = join(root, file.path);
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, file.content, { flag: 'wx' });
          if (file.executable === true) await chmod(path, 0o755);
        }
        const shown = relative(s.ctx.settings.cwd, root) || '.';
        if (s.json) return s.out.data({ pack: name, dir: root, files: files.map((f) => f.path) });
        s.out.line(`created pack ${s.out.paint(name, 'bold')} in ${shown}/`);
        for (const f of files) s.out.line(`  ${f.path}`);
        s.out.line();
        s.out.line(`next: reflex pack validate ${shown} && reflex pack test ${shown}   (then see ${shown}/README.md)`);
      }),
    );
}
