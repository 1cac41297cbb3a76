/** Reading what people type: `key=value` parameters, durations, JSON or YAML files. */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { JsonObject, JsonSchema, JsonValue } from '@reflex/model';
import { UsageError } from './output.ts';

/** A value as typed: JSON when it parses (`3`, `true`, `{"a":1}`, `"quoted"`), else the text itself. */
export function parseValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/**
 * True when a JSON Schema property takes only strings: such a parameter keeps what was typed as
 * text (`cmd=false` is the command `false`, `zip=01234` keeps its zero).
 */
export function takesText(schema: JsonSchema | undefined, name: string): boolean {
  const property = (schema?.['properties'] as Record<string, { type?: unknown }> | undefined)?.[name];
  const type = property?.type;
  return type === 'string' || (Array.isArray(type) && type.length > 0 && type.every((t) => t === 'string'));
}

/**
 * `['host=db1', 'count=3', 'tags=["a"]']` → `{ host: 'db1', count: 3, tags: ['a'] }`. With the
 * action's parameters schema, string parameters keep the text as typed; others are JSON when they parse.
 */
export function parseAssignments(items: readonly string[], what = 'parameter', schema?: JsonSchema): JsonObject {
  const out: JsonObject = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new UsageError(`'${item}' is not a ${what}: write name=value`);
    const name = item.slice(0, eq);
    if (Object.hasOwn(out, name)) throw new UsageError(`${what} '${name}' is given twice`);
    if (name === '__proto__' || name === 'constructor' || name === 'prototype') throw new UsageError(`'${name}' cannot be a ${what} name`);
    const text = item.slice(eq + 1);
    out[name] = takesText(schema, name) ? text : parseValue(text);
  }
  return out;
}

const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 };

/** `90`, `90s`, `15m`, `2h`, `7d`, `1w` → seconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const match = /^(\d+)\s*([smhdw]?)$/.exec(text.trim());
  if (match === null) throw new UsageError(`${what} '${text}' is not a duration: write e.g. 90, 90s, 15m, 2h, 7d`);
  const seconds = Number(match[1]) * (UNITS[match[2] === '' ? 's' : (match[2] ?? 's')] ?? 1);
  if (seconds <= 0) throw new UsageError(`${what} must be more than 0`);
  return seconds;
}

/** An ISO time, or a duration back from `now` (`24h` → 24 hours ago). */
export function parseSince(text: string, now = Date.now()): string {
  if (/^\d+\s*[smhdw]?$/.test(text.trim())) return new Date(now - parseDuration(text, 'since') * 1000).toISOString();
  const at = Date.parse(text);
  if (Number.isNaN(at)) throw new UsageError(`'${text}' is neither a time (2024-05-01T12:00:00Z) nor a duration (24h)`);
  return new Date(at).toISOString();
}

/** A JSON or YAML document from a file (YAML is a superset of JSON, so one parser reads both). */
export async function readDocument(path: string, cwd: string): Promise<unknown> {
  const file = resolve(cwd, path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  try {
    return parseYaml(text, { maxAliasCount: 100 }) as unknown;
  } catch (err) {
    throw new UsageError(`${path} is neither JSON nor YAML: ${(err as Error).message.split('\n')[0] ?? ''}`);
  }
}

/** A document given inline (`'{"a":1}'`) or from a file (`@payload.json`). */
export async function readInlineOrFile(text: string, cwd: string): Promise<unknown> {
  if (text.startsWith('@')) return await readDocument(text.slice(1), cwd);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`'${text.slice(0, 60)}' is not JSON (give a file as @path)`);
  }
}

export async function readAll(stream: AsyncIterable<Buffer | string>): Promise<string> {
  let text = '';
  for await (const chunk of stream) text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
  return text;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
