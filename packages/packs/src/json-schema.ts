import { compileUserSchema, validateModel, ValidationError, type ErrorDetail, type JsonSchema } from '@reflex/model';

/** Checks a document against the JSON Schema (draft-07) meta-schema, through the model's ajv. */
const metaSchema = { $id: 'reflex:packs/json-schema', $ref: 'http://json-schema.org/draft-07/schema#' };

/** What ajv-formats knows; any other `format` would be ignored silently, so it is an error. */
const KNOWN_FORMATS = new Set([
  'date', 'time', 'date-time', 'iso-time', 'iso-date-time', 'duration', 'uri', 'uri-reference', 'uri-template',
  'url', 'email', 'hostname', 'ipv4', 'ipv6', 'regex', 'uuid', 'json-pointer', 'json-pointer-uri-fragment',
  'relative-json-pointer', 'byte', 'int32', 'int64', 'float', 'double', 'password', 'binary',
]);

/** Keywords whose value maps names to subschemas (the names are not keywords). */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'definitions', '$defs', 'dependencies', 'dependentSchemas']);
/** Keywords whose value is data, not schema. */
const DATA_KEYWORDS = new Set(['enum', 'const', 'default', 'examples']);

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function join(path: string, segment: string): string {
  return path === '' ? segment : `${path}.${segment}`;
}

function walkSchemas(node: unknown, path: string, visit: (schema: Record<string, unknown>, path: string) => void): void {
  if (Array.isArray(node)) {
    node.forEach((item, i) => walkSchemas(item, join(path, String(i)), visit));
    return;
  }
  if (!isPlainObject(node)) return;
  visit(node, path);
  for (const [key, value] of Object.entries(node)) {
    if (DATA_KEYWORDS.has(key)) continue;
    if (SCHEMA_MAPS.has(key) && isPlainObject(value)) {
      for (const [name, sub] of Object.entries(value)) walkSchemas(sub, join(join(path, key), name), visit);
    } else {
      walkSchemas(value, join(path, key), visit);
    }
  }
}

function regexError(source: string): string | undefined {
  try {
    new RegExp(source, 'u');
    return undefined;
  } catch (err) {
    return (err as Error).message;
  }
}

/** Checks ajv would compile to something other than an exception, with a path for each problem. */
function keywordDetails(schema: unknown, root: string): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  walkSchemas(schema, root, (node, path) => {
    const pattern = node['pattern'];
    if (typeof pattern === 'string') {
      const problem = regexError(pattern);
      if (problem !== undefined) details.push({ field: join(path, 'pattern'), message: `is not a valid regular expression: ${problem}` });
    }
    const patternProperties = node['patternProperties'];
    if (isPlainObject(patternProperties)) {
      for (const key of Object.keys(patternProperties)) {
        const problem = regexError(key);
        if (problem !== undefined) {
          details.push({ field: join(join(path, 'patternProperties'), key), message: `is not a valid regular expression: ${problem}` });
        }
      }
    }
    const format = node['format'];
    if (typeof format === 'string' && !KNOWN_FORMATS.has(format)) {
      details.push({ field: join(path, 'format'), message: `is not a known format (one of ${[...KNOWN_FORMATS].join(', ')})` });
    }
    // Schemas are compiled into one shared ajv instance: an $id would collide when the pack is
    // loaded again, and would let one pack's schema shadow another's.
    if ('$id' in node) details.push({ field: join(path, '$id'), message: 'is not supported in pack schemas' });
  });
  return details;
}

const NOISE = /^must match (a schema in anyOf|exactly one schema in oneOf)$/;

/** One detail per field: ajv's anyOf/oneOf summaries are dropped when a precise message exists. */
export function mergeDetails(details: ErrorDetail[]): ErrorDetail[] {
  const byField = new Map<string, string[]>();
  for (const d of details) {
    const messages = byField.get(d.field) ?? [];
    if (!messages.includes(d.message)) messages.push(d.message);
    byField.set(d.field, messages);
  }
  return [...byField].map(([field, messages]) => {
    const precise = messages.filter((m) => !NOISE.test(m));
    return { field, message: (precise.length > 0 ? precise : messages).join('; ') };
  });
}

/**
 * Checks `schema` against the draft-07 meta-schema and the keywords ajv would otherwise throw on
 * (or ignore) without a path. Each problem is a detail whose field is rooted at `root`.
 */
export function schemaShapeDetails(schema: unknown, root: string): ErrorDetail[] {
  if (!isPlainObject(schema)) return [{ field: root, message: 'must be a JSON Schema (a mapping)' }];
  let details: ErrorDetail[] = [];
  try {
    validateModel(metaSchema, structuredClone(schema), root, 'JSON Schema');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    details = err.details ?? [{ field: root, message: err.message }];
  }
  details.push(...keywordDetails(schema, root));
  return mergeDetails(details);
}

/** Compiles `schema` (the model caches it); what is left to fail (an unresolvable $ref) is on `root`. */
export function compileDetails(schema: JsonSchema, root: string): ErrorDetail[] {
  try {
    compileUserSchema(schema, root);
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return [{ field: root, message: `does not compile: ${err.details?.[0]?.message ?? err.message}` }];
  }
}

/** Checks that `schema` is a JSON Schema ajv compiles; an empty list means it does. */
export function jsonSchemaDetails(schema: unknown, root: string): ErrorDetail[] {
  const details = schemaShapeDetails(schema, root);
  if (details.length > 0 || !isPlainObject(schema)) return details;
  return compileDetails(schema, root);
}
