/**
 * What the commands get from the outside: where to write, the settings the entry point read from
 * the environment (this package never reads `process.env`), and how to reach the API. The API key
 * comes from `--api-key`, else REFLEX_API_KEY, else the `admin.key` a first start wrote into the
 * data dir, so `reflex start` in one terminal and `reflex rule list` in another just work.
 */
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { ReflexClient } from '@reflex/api-client';

/** A stream to write to (process.stdout, or a buffer in tests). */
export interface Writer {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface CliIO {
  stdout: Writer;
  stderr: Writer;
  /** For `key set NAME -` (the value from stdin). */
  stdin?: AsyncIterable<Buffer | string>;
}

/** Settings the entry point resolved from the environment. */
export interface CliSettings {
  /** REFLEX_URL, if set. */
  url?: string;
  /** The API when REFLEX_URL and --url are not given (`http://127.0.0.1:<REFLEX_PORT or 8180>`). */
  defaultUrl: string;
  /** REFLEX_API_KEY, if set. */
  apiKey?: string;
  /** Absolute data dir (REFLEX_DATA_DIR, default `./.reflex`): where `admin.key` is looked for. */
  dataDir: string;
  /**
   * REFLEX_DATA_DIR was not set: `.reflex/admin.key` is also looked for in the folders above `cwd`
   * (like git finds `.git`), so commands work from a pack folder inside the project too.
   */
  searchParents?: boolean;
  /** NO_COLOR is set: never colour. */
  noColor: boolean;
  /** Where relative paths start. */
  cwd: string;
}

export interface CliContext {
  io: CliIO;
  settings: CliSettings;
  /** For tests: the fetch the API client uses. */
  fetch?: typeof fetch;
  /** Set by commands: 1 when something failed (or a test did not pass), 0 otherwise. */
  exitCode: number;
}

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  url?: string;
  apiKey?: string;
  json?: boolean;
  color?: boolean;
}

export const ADMIN_KEY_FILE = 'admin.key';

/** The key to send, and where it came from (for the hint after a 401). */
export function resolveApiKey(options: GlobalOptions, settings: CliSettings): { key?: string; source: string } {
  if (options.apiKey !== undefined && options.apiKey !== '') return { key: options.apiKey, source: '--api-key' };
  if (settings.apiKey !== undefined && settings.apiKey !== '') return { key: settings.apiKey, source: 'REFLEX_API_KEY' };
  for (const file of keyFiles(settings)) {
    try {
      const key = readFileSync(file, 'utf8').trim();
      if (key !== '') return { key, source: file };
    } catch {
      // no readable admin.key here: look further, else send no key (an API with REFLEX_AUTH=off needs none)
    }
  }
  return { source: 'none' };
}

/** `<dataDir>/admin.key`, then (when searching) `.reflex/admin.key` in each folder above `cwd`. */
function keyFiles(settings: CliSettings): string[] {
  const files = [join(settings.dataDir, ADMIN_KEY_FILE)];
  if (settings.searchParents !== true) return files;
  const name = basename(settings.dataDir);
  for (let dir = dirname(settings.cwd); ; dir = dirname(dir)) {
    files.push(join(dir, name, ADMIN_KEY_FILE));
    if (dirname(dir) === dir) return files;
  }
}

export function resolveUrl(options: GlobalOptions, settings: CliSettings): string {
  return options.url ?? settings.url ?? settings.defaultUrl;
}

export function clientOf(ctx: CliContext, options: GlobalOptions): { client: ReflexClient; keySource: string } {
  const { key, source } = resolveApiKey(options, ctx.settings);
  const client = new ReflexClient({
    url: resolveUrl(options, ctx.settings),
    ...(key === undefined ? {} : { apiKey: key }),
    ...(ctx.fetch === undefined ? {} : { fetch: ctx.fetch }),
  });
  return { client, keySource: source };
}
