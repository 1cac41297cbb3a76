import { ajvDetails, compileUserSchema, type ErrorDetail, type JsonSchema } from '@reflex/model';
import { compileDetails, isPlainObject, schemaShapeDetails } from './json-schema.ts';

export interface ParametersSchemaResult {
  schema: JsonSchema;
  /** Fields are YAML paths under the given root (`parameters.message.required`). */
  details: ErrorDetail[];
}

/**
 * Turns StackStorm-style parameters (a map of name → property schema, with `required: true`
 * on the property) into the JSON Schema the model keeps:
 * `{ type: 'object', properties, required: [...], additionalProperties: false }`.
 * Other keys of a property (`secret`, `default`, `position`, ...) stay on it as keywords.
 * Each property must be a valid JSON Schema and its `default` must pass it.
 */
export function parametersToSchema(parameters: unknown, root: string): ParametersSchemaResult {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  const schema: JsonSchema = { type: 'object', properties, required, additionalProperties: false };
  if (parameters === undefined || parameters === null) return { schema, details: [] };
  if (!isPlainObject(parameters)) {
    return { schema, details: [{ field: root, message: 'must be a mapping of parameter name to its schema' }] };
  }
  const details: ErrorDetail[] = [];
  const sound: Record<string, JsonSchema> = {};
  for (const [name, raw] of Object.entries(parameters)) {
    const field = `${root}.${name}`;
    if (!isPlainObject(raw)) {
      details.push({ field, message: 'must be a mapping (the parameter\'s JSON Schema: type, description, default, ...)' });
      continue;
    }
    const { required: isRequired, ...property } = raw;
    if (isRequired !== undefined) {
      if (typeof isRequired !== 'boolean') details.push({ field: `${field}.required`, message: 'must be true or false' });
      else if (isRequired) required.push(name);
    }
    if (property['secret'] !== undefined && typeof property['secret'] !== 'boolean') {
      details.push({ field: `${field}.secret`, message: 'must be true or false' });
    }
    const shape = schemaShapeDetails(property, field);
    details.push(...shape);
    properties[name] = property;
    if (shape.length === 0) sound[name] = property;
  }
  if (details.length === 0) {
    const compiled = compileDetails(schema, root);
    if (compiled.length > 0) return { schema, details: compiled };
    return { schema, details: defaultDetails(schema, properties, root) };
  }
  // Still check the defaults of the properties that are fine, so every error shows at once.
  const partial: JsonSchema = { type: 'object', properties: sound };
  if (compileDetails(partial, root).length === 0) details.push(...defaultDetails(partial, sound, root));
  return { schema, details };
}

/** Each property's `default` must pass the property's own schema. */
function defaultDetails(schema: JsonSchema, properties: Record<string, JsonSchema>, root: string): ErrorDetail[] {
  const defaults: Record<string, unknown> = {};
  for (const [name, property] of Object.entries(properties)) {
    if ('default' in property) defaults[name] = structuredClone(property['default']);
  }
  if (Object.keys(defaults).length === 0) return [];
  const validate = compileUserSchema(schema, root);
  if (validate(defaults)) return [];
  const errors = (validate.errors ?? []).filter((e) => !(e.keyword === 'required' && e.instancePath === ''));
  return ajvDetails(errors, '').map((d) => {
    const [name = '', ...rest] = splitFirst(d.field, Object.keys(defaults));
    const inner = rest.length > 0 ? ` (at ${rest.join('.')})` : '';
    return { field: `${root}.${name}.default`, message: `${d.message}${inner}` };
  });
}

/** Splits a dotted field whose first segment is one of `names` (which may themselves hold dots). */
function splitFirst(field: string, names: string[]): string[] {
  const name = names.filter((n) => field === n || field.startsWith(`${n}.`)).sort((a, b) => b.length - a.length)[0];
  if (name === undefined) return field.split('.');
  const rest = field.slice(name.length + 1);
  return rest === '' ? [name] : [name, ...rest.split('.')];
}
