/**
 * The chat pack's site configuration: `<config dir>/chat.yaml` (targets with their URLs and tokens).
 * Read at start-up; an error names the file and the field. No file means the console target only,
 * which is the embedded default: a new user sees messages without any account.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'yaml';
import { parseChatConfig, type ChatConfig } from '@reflex/chat';
import { ValidationError } from '@reflex/model';

export async function loadChatConfig(configDir: string): Promise<{ config: ChatConfig; file: string | undefined }> {
  const file = join(configDir, 'chat.yaml');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { config: parseChatConfig({}), file: undefined };
    throw err;
  }
  let raw: unknown;
  try {
    raw = parse(text);
  } catch (err) {
    throw new ValidationError(`${file}: not valid YAML: ${(err as Error).message}`, [{ field: file, message: (err as Error).message }]);
  }
  try {
    return { config: parseChatConfig(raw), file };
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    const details = (err.details ?? []).map((d) => ({ field: `${file}: ${d.field}`, message: d.message }));
    throw new ValidationError(`${file}: ${err.message}`, details);
  }
}
