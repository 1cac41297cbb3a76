/**
 * One command run: its output, its API client (made on first use, so local commands never need
 * one), and the wrapper that turns any failure into a message on stderr and exit code 1.
 */
import type { Command } from 'commander';
import { ApiError, type ReflexClient } from '@reflex/api-client';
import { clientOf, resolveUrl, type CliContext, type GlobalOptions } from './context.ts';
import { Output } from './output.ts';

export class Session {
  readonly ctx: CliContext;
  readonly options: GlobalOptions;
  readonly out: Output;
  #client: { client: ReflexClient; keySource: string } | undefined;

  constructor(ctx: CliContext, options: GlobalOptions) {
    this.ctx = ctx;
    this.options = options;
    const colour = options.color !== false && !ctx.settings.noColor;
    this.out = new Output(ctx.io.stdout, ctx.io.stderr, { json: options.json === true, colour });
  }

  get client(): ReflexClient {
    this.#client ??= clientOf(this.ctx, this.options);
    return this.#client.client;
  }

  get json(): boolean {
    return this.out.json;
  }

  /** A hint that fits the failure: how to reach the API, or where keys come from. */
  hintFor(err: unknown): string | undefined {
    if (!(err instanceof ApiError)) return undefined;
    if (err.code === 'UNREACHABLE') return `is Reflex running (reflex start)? This asked ${resolveUrl(this.options, this.ctx.settings)}; set REFLEX_URL or --url for another one.`;
    if (err.status === 401) {
      const source = this.#client?.keySource ?? 'none';
      return source === 'none'
        ? `no API key was sent: pass --api-key, set REFLEX_API_KEY, or run where Reflex keeps its data (${this.ctx.settings.dataDir}/admin.key; REFLEX_DATA_DIR).`
        : `the API key from ${source} was refused (unknown, revoked or expired).`;
    }
    if (err.status === 403) return 'your key’s role does not allow this (reflex whoami shows its grants).';
    return undefined;
  }
}

/** Positional arguments then the options object, as commander passes them (without the Command). */
type Handler = (session: Session, ...args: never[]) => Promise<void>;

/** Wraps a command's action: a Session from the global options, failures printed, exit code set. */
export function act(ctx: CliContext, handler: Handler): (...args: unknown[]) => Promise<void> {
  return async (...args: unknown[]) => {
    const command = args[args.length - 1] as Command;
    const session = new Session(ctx, command.optsWithGlobals<GlobalOptions>());
    try {
      await handler(session, ...(args.slice(0, -1) as never[]));
    } catch (err) {
      session.out.fail(err, session.hintFor(err));
      ctx.exitCode = 1;
    }
  };
}
