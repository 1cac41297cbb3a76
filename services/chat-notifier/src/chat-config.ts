/**
 * The chat pack's site configuration: `<config dir>/chat.yaml` — the targets with their URLs and
 * tokens, and optionally how hard to try (`delivery:`). Read at start-up; an error names the file
 * and the field. No file means the console target only, which is the embedded default: a new user
 * sees messages without any account.
 *
 * ```yaml
 * default_target: oncall          # optional; else the console
 * targets:
 *   oncall: { adapter: slack-webhook, url: https://hooks.slack.com/services/... }
 * delivery:                       # optional
 *   max_attempts: 5
 *   base_delay_ms: 500
 *   max_delay_ms: 30000
 *   budget_ms: 60000
 * ```
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseChatConfig, type ChatConfig, type RetryOptions } from '@reflex/chat';
import { validateModel, ValidationError } from '@reflex/model';

const deliverySchema = {
  $id: 'reflex:chat-delivery',
  type: 'object',
  additionalProperties: false,
  properties: {
    max_attempts: { type: 'integer', minimum: 1, maximum: 50 },
    base_delay_ms: { type: 'integer', minimum: 0, maximum: 600000 },
    max_delay_ms: { type: 'integer', minimum: 0, maximum: 3600000 },
    budget_ms: { type: 'integer', minimum: 0, maximum: 86400000 },
  },
} as const;

export interface LoadedChatConfig {
  config: ChatConfig;
  retry: Partial<RetryOptions>;
  /** The file read, or undefined when there is none (console only). */
  file: string | undefined;
}

function retryOf(delivery: Record<string, number>): Partial<RetryOptions> {
  const retry: Partial<RetryOptions> = {};
  if (delivery['max_attempts'] !== undefined) retry.maxAttempts = delivery['max_attempts'];
  if (delivery['base_delay_ms'] !== undefined) retry.baseDelayMs = delivery['base_delay_ms'];
  if (delivery['max_delay_ms'] !== undefined) retry.maxDelayMs = delivery['max_delay_ms'];
  if (delivery['budget_ms'] !== undefined) retry.budgetMs = delivery['budget_ms'];
  return retry;
}

export async function loadChatConfig(configDir: string): Promise<LoadedChatConfig> {
  const file = join(configDir, 'chat.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: parseChatConfig({}), retry: {}, file: undefined };
    throw err;
  }
  const named = (err: ValidationError): ValidationError =>
    new ValidationError(`${file}: ${err.message}`, (err.details ?? []).map((d) => ({ field: `${file}: ${d.field}`, message: d.message })));
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: not valid YAML: ${(err as Error).message}`, [{ field: file, message: (err as Error).message }]);
  }
  const { delivery, default_target: defaultTarget, ...rest } = (raw ?? {}) as Record<string, unknown>;
  try {
    const input = defaultTarget === undefined ? rest : { ...rest, defaultTarget };
    const config = parseChatConfig(input);
    const settings = (delivery ?? {}) as Record<string, number>;
    validateModel(deliverySchema, settings, 'delivery', 'chat delivery settings');
    return { config, retry: retryOf(settings), file };
  } catch (err) {
    if (err instanceof ValidationError) throw named(err);
    throw err;
  }
}
