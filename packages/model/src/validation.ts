import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsImport from 'ajv-formats';
import { ValidationError, type ErrorDetail } from './errors.ts';
import type { JsonSchema } from './json.ts';

// ajv-formats is CommonJS: its types describe the default import as the module object, while at
// run time Node hands over the plugin function itself (which also carries `.default`).
type FormatsPlugin = typeof addFormatsImport.default;
const addFormats: FormatsPlugin =
  (addFormatsImport as unknown as { default?: FormatsPlugin }).default ?? (addFormatsImport as unknown as FormatsPlugin);

function newAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: false, allowUnionTypes: true });
  addFormats(ajv);
  return ajv;
}

/** One ajv for Reflex's own schemas, one for schemas that packs and users supply. */
const coreAjv = newAjv();
const userAjv = newAjv();

/** Turns ajv errors into details that name the field as a dotted path under `root`. */
export function ajvDetails(errors: ErrorObject[] | null | undefined, root: string): ErrorDetail[] {
  return (errors ?? []).map((e) => {
    const segments = e.instancePath.split('/').slice(1).map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    const params = e.params as Record<string, unknown>;
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required' && typeof params['missingProperty'] === 'string') {
      segments.push(params['missingProperty']);
      message = 'is required';
    } else if (e.keyword === 'additionalProperties' && typeof params['additionalProperty'] === 'string') {
      segments.push(params['additionalProperty']);
      message = 'is not allowed';
    } else if (e.keyword === 'enum' && Array.isArray(params['allowedValues'])) {
      message = `must be one of ${params['allowedValues'].map((v) => JSON.stringify(v)).join(', ')}`;
    }
    const field = [root, ...segments].filter((s) => s !== '').join('.');
    return { field: field === '' ? root : field, message };
  });
}

function check(validate: ValidateFunction, data: unknown, root: string, what: string): void {
  if (validate(data)) return;
  const details = ajvDetails(validate.errors, root);
  const first = details[0];
  const summary = first === undefined ? `${what} is invalid` : `${what} is invalid: ${first.field} ${first.message}`;
  throw new ValidationError(summary, details);
}

const compiledCore = new Map<string, ValidateFunction>();

/**
 * Validates `data` (in place: defaults are applied) against one of the model's schemas, given
 * as the schema object itself. Throws ValidationError naming each field under `root`.
 */
export function validateModel(schema: JsonSchema & { $id: string }, data: unknown, root = 'body', what = 'request'): void {
  let validate = compiledCore.get(schema.$id);
  if (validate === undefined) {
    validate = coreAjv.compile(schema);
    compiledCore.set(schema.$id, validate);
  }
  check(validate, data, root, what);
}

/** Compiled user schemas by identity (fast path) and by content (so a reloaded copy is not compiled again). */
const compiledUser = new WeakMap<object, ValidateFunction>();
const compiledUserByContent = new Map<string, ValidateFunction>();

/**
 * Compiles a schema supplied by a pack or a user (trigger payload, action parameters), once per
 * distinct schema: caches reload their objects from the store, and ajv keeps every schema it ever
 * compiled, so compiling per object would grow without bound. An invalid schema is a ValidationError on `field`.
 */
export function compileUserSchema(schema: JsonSchema, field = 'schema'): ValidateFunction {
  const cached = compiledUser.get(schema);
  if (cached !== undefined) return cached;
  const key = JSON.stringify(schema);
  let validate = compiledUserByContent.get(key);
  if (validate === undefined) {
    try {
      validate = userAjv.compile(schema);
    } catch (err) {
      throw new ValidationError(`${field} is not a valid JSON Schema: ${(err as Error).message}`, [
        { field, message: (err as Error).message },
      ], { cause: err });
    }
    compiledUserByContent.set(key, validate);
  }
  compiledUser.set(schema, validate);
  return validate;
}

/** Validates `data` (defaults applied in place) against a user schema, naming fields under `root`. */
export function validateUser(schema: JsonSchema, data: unknown, root: string, what: string): void {
  check(compileUserSchema(schema), data, root, what);
}
