import { readFile, stat } from 'node:fs/promises';
import { isMap, isPair, isScalar, isSeq, LineCounter, parseDocument, type Node } from 'yaml';
import type { ItemSource, PackFileError, Position } from './types.ts';

/** A pack file larger than this is refused rather than parsed. */
export const MAX_FILE_BYTES = 1024 * 1024;

export interface ParsedFile {
  source: ItemSource;
  /** The document as plain JSON, or undefined when it could not be read or parsed. */
  value: unknown;
  errors: PackFileError[];
}

/**
 * Reads a YAML file and indexes the position of every key, so an error on a field can name its
 * line. YAML errors (syntax, duplicate keys, several documents) are returned, each with its line;
 * when there are any, `value` is undefined: checking a half-parsed file only adds noise.
 */
export async function readYamlFile(absPath: string, file: string): Promise<ParsedFile> {
  const source: ItemSource = { file, positions: {} };
  let text: string;
  try {
    const info = await stat(absPath);
    if (info.size > MAX_FILE_BYTES) {
      return { source, value: undefined, errors: [{ file, field: '', message: `is larger than ${MAX_FILE_BYTES} bytes` }] };
    }
    text = await readFile(absPath, 'utf8');
  } catch (err) {
    return { source, value: undefined, errors: [{ file, field: '', message: `cannot be read: ${(err as Error).message}` }] };
  }
  return parseYaml(text, file);
}

export function parseYaml(text: string, file: string): ParsedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { line: Math.max(line, 1), column: Math.max(col, 1) };
  };
  const source: ItemSource = { file, positions: {} };
  if (doc.errors.length > 0) {
    const errors = doc.errors.map((e) => ({ file, ...at(e.pos[0]), field: '', message: e.message }));
    return { source, value: undefined, errors };
  }
  const root = doc.contents;
  source.positions[''] = root === null ? { line: 1, column: 1 } : at(root.range[0]);
  if (root !== null) indexNode(root, '', source.positions, at);
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (err) {
    // toJS throws on alias bombs (maxAliasCount) and unresolvable aliases.
    return { source, value: undefined, errors: [{ file, line: 1, column: 1, field: '', message: (err as Error).message }] };
  }
  const errors = nonJson(value, '').map((field) => ({ file, ...locate(source, field), field, message: 'is not a JSON value (NaN or infinity)' }));
  return { source, value, errors };
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return key === null || key === undefined ? '' : String(key);
}

function join(path: string, segment: string): string {
  return path === '' ? segment : `${path}.${segment}`;
}

function indexNode(node: unknown, path: string, positions: Record<string, Position>, at: (offset: number) => Position): void {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const key = pair.key as Node | null;
      const child = join(path, keyText(key));
      const range = key?.range ?? (pair.value as Node | null)?.range;
      if (range !== undefined && range !== null) positions[child] ??= at(range[0]);
      indexNode(pair.value, child, positions, at);
    }
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => {
      const child = join(path, String(i));
      const range = (item as Node | null)?.range;
      if (range !== undefined && range !== null) positions[child] ??= at(range[0]);
      indexNode(item, child, positions, at);
    });
  }
}

/**
 * The position of `field` (a dotted YAML path) in the file: its key, or, when the field is not
 * there (a required key is missing), the nearest enclosing key that is.
 */
export function locate(source: ItemSource, field: string): Partial<Position> {
  let path = field;
  for (;;) {
    const found = source.positions[path];
    if (found !== undefined) return { line: found.line, column: found.column };
    if (path === '') return {};
    const dot = path.lastIndexOf('.');
    path = dot < 0 ? '' : path.slice(0, dot);
  }
}

/** An error on `field` of the file, with its line. */
export function fileError(source: ItemSource, field: string, message: string): PackFileError {
  return { file: source.file, ...locate(source, field), field, message };
}

function nonJson(value: unknown, path: string): string[] {
  if (typeof value === 'number') return Number.isFinite(value) ? [] : [path];
  if (Array.isArray(value)) return value.flatMap((v, i) => nonJson(v, join(path, String(i))));
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => nonJson(v, join(path, k)));
  }
  return [];
}
