/**
 * `reflex webhook-auth list|get|set|delete`: how a webhook url (the path under /v1/webhooks/)
 * authenticates its sender — an API key, a shared token, or an HMAC signature of the body (GitHub's
 * X-Hub-Signature-256, Slack's, or any other). Secrets are write-only: the API never shows them.
 */
import type { Command } from 'commander';
import type { HmacAlgorithm, WebhookAuthInput, WebhookAuthView } from '@reflex/model';
import { readAll } from '../args.ts';
import type { CliContext } from '../context.ts';
import { shortTime, UsageError } from '../output.ts';
import { act, type Session } from '../session.ts';

interface SetOptions {
  preset?: string;
  secret?: string;
  header?: string;
  algorithm?: string;
  prefix?: string;
  encoding?: string;
  timestampHeader?: string;
  tolerance?: string;
  signedPayload?: string;
}

const TYPES = ['apikey', 'token', 'hmac'] as const;
const PRESETS = ['github', 'slack'] as const;
const ALGORITHMS = ['sha1', 'sha256', 'sha512'] as const;
const ENCODINGS = ['hex', 'base64'] as const;

function oneOf<T extends string>(value: string | undefined, allowed: readonly T[], flag: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) throw new UsageError(`${flag} must be one of ${allowed.join(', ')}`);
  return value as T;
}

/** The secret as given, or from stdin with `-` (keeps it out of shell history). */
async function secretOf(s: Session, value: string | undefined, type: string): Promise<string> {
  if (value === undefined) throw new UsageError(`a ${type} url needs --secret (the ${type === 'token' ? 'shared token' : 'HMAC secret'}; - reads it from stdin)`);
  if (value !== '-') return value;
  if (s.ctx.io.stdin === undefined) throw new UsageError('no stdin to read the secret from');
  const text = (await readAll(s.ctx.io.stdin)).replace(/\r?\n$/, '');
  if (text === '') throw new UsageError('the secret read from stdin is empty');
  return text;
}

/** The API's input from what was typed. Only the flags of the chosen type are allowed. */
export async function webhookAuthInput(s: Session, typeArg: string | undefined, opts: SetOptions): Promise<WebhookAuthInput> {
  const preset = oneOf(opts.preset, PRESETS, '--preset');
  const type = oneOf(typeArg ?? (preset !== undefined ? 'hmac' : undefined), TYPES, 'TYPE');
  if (type === undefined) throw new UsageError('say how the url authenticates: apikey, token or hmac (or --preset github|slack)');
  const hmacOnly = { preset, algorithm: opts.algorithm, prefix: opts.prefix, encoding: opts.encoding, timestampHeader: opts.timestampHeader, tolerance: opts.tolerance, signedPayload: opts.signedPayload };
  const misplaced = (allowed: string[]): string[] =>
    Object.entries({ ...hmacOnly, secret: opts.secret, header: opts.header })
      .filter(([name, value]) => value !== undefined && !allowed.includes(name))
      .map(([name]) => `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`);
  if (type === 'apikey') {
    const extra = misplaced([]);
    if (extra.length > 0) throw new UsageError(`an apikey url takes no ${extra.join(', ')}`);
    return { type: 'apikey' };
  }
  if (type === 'token') {
    const extra = misplaced(['secret', 'header']);
    if (extra.length > 0) throw new UsageError(`a token url takes no ${extra.join(', ')}`);
    return { type: 'token', token: await secretOf(s, opts.secret, 'token'), ...(opts.header === undefined ? {} : { header: opts.header }) };
  }
  const input: WebhookAuthInput = { type: 'hmac', secret: await secretOf(s, opts.secret, 'hmac') };
  if (preset !== undefined) input.preset = preset;
  if (opts.header !== undefined) input.header = opts.header;
  const algorithm: HmacAlgorithm | undefined = oneOf(opts.algorithm, ALGORITHMS, '--algorithm');
  if (algorithm !== undefined) input.algorithm = algorithm;
  if (opts.prefix !== undefined) input.prefix = opts.prefix;
  const encoding = oneOf(opts.encoding, ENCODINGS, '--encoding');
  if (encoding !== undefined) input.encoding = encoding;
  if (opts.timestampHeader !== undefined) input.timestampHeader = opts.timestampHeader;
  if (opts.tolerance !== undefined) {
    const seconds = Number(opts.tolerance);
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 86_400) throw new UsageError('--tolerance must be a whole number of seconds from 1 to 86400');
    input.toleranceSeconds = seconds;
  }
  if (opts.signedPayload !== undefined) input.signedPayload = opts.signedPayload;
  return input;
}

/** What the sender must send, in a few words. */
function how(view: WebhookAuthView): string {
  if (view.type === 'apikey') return 'an API key with webhooks:post';
  if (view.type === 'token') return `the token in ${view.header ?? 'x-reflex-webhook-token'}`;
  const signed = view.signedPayload === undefined || view.signedPayload === '{body}' ? 'the body' : view.signedPayload;
  return `${view.header ?? ''}: ${view.prefix ?? ''}<${view.encoding ?? 'hex'} HMAC-${(view.algorithm ?? 'sha256').toUpperCase()} of ${signed}>`;
}

export function webhookAuthCommands(program: Command, ctx: CliContext): void {
  const command = program.command('webhook-auth').description('how webhook urls authenticate their senders: an API key, a shared token, or an HMAC signature (GitHub, Slack, …)');

  command
    .command('list')
    .description('urls that require authentication, and how (never their secrets)')
    .action(
      act(ctx, async (s: Session) => {
        const { items } = await s.client.webhookAuth.list();
        if (s.json) return s.out.data(items);
        s.out.table(
          items,
          [
            { header: 'URL', value: (v) => v.url },
            { header: 'TYPE', value: (v) => v.type },
            { header: 'UPDATED', value: (v) => shortTime(v.updatedAt) },
            { header: 'THE SENDER SENDS', value: how, max: 100 },
          ],
          '(every webhook url is open)',
        );
      }),
    );

  command
    .command('get')
    .description('how one url authenticates its sender')
    .argument('<url>', 'the path under /v1/webhooks/, e.g. github or github/push')
    .action(
      act(ctx, async (s: Session, url: string) => {
        const view = await s.client.webhookAuth.get(url);
        if (s.json) return s.out.data(view);
        s.out.yaml(view);
      }),
    );

  command
    .command('set')
    .description('require an API key, a token or a signature on a url (replaces what it required)')
    .argument('<url>', 'the path under /v1/webhooks/, e.g. github')
    .argument('[type]', 'apikey, token or hmac (hmac when --preset is given)')
    .option('--preset <name>', 'hmac as github (X-Hub-Signature-256: sha256=<hex>) or slack (X-Slack-Signature, timestamped) sign it')
    .option('--secret <text>', 'the shared token or HMAC secret (at least 16 characters); - reads it from stdin')
    .option('--header <name>', 'the header carrying the token or signature')
    .option('--algorithm <name>', 'hmac: sha1, sha256 or sha512')
    .option('--prefix <text>', 'hmac: text before the digest (sha256=)')
    .option('--encoding <name>', 'hmac: hex or base64')
    .option('--timestamp-header <name>', 'hmac: the header with the sender’s Unix time (refuses old and replayed requests)')
    .option('--tolerance <seconds>', 'hmac: how old a timestamp may be (default 300)')
    .option('--signed-payload <template>', 'hmac: what is signed, e.g. v0:{timestamp}:{body} (default {body})')
    .action(
      act(ctx, async (s: Session, url: string, type: string | undefined, opts: SetOptions) => {
        const view = await s.client.webhookAuth.set(url, await webhookAuthInput(s, type, opts));
        if (s.json) return s.out.data(view);
        s.out.line(`/v1/webhooks/${view.url} now requires ${how(view)}`);
      }),
    );

  command
    .command('delete')
    .description('open a url again (no authentication)')
    .argument('<url>')
    .action(
      act(ctx, async (s: Session, url: string) => {
        await s.client.webhookAuth.delete(url);
        if (s.json) return s.out.data({ deleted: url });
        s.out.line(`/v1/webhooks/${url} is open again`);
      }),
    );
}
