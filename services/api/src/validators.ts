/**
 * Route validation: bodies are checked strictly (no type coercion, no silent removal of unknown
 * fields, so a client learns about its mistake); query strings and path params are coerced from
 * their string form. Both report every error so the error handler can name each field.
 */
import { Ajv } from 'ajv';
import addFormatsImport from 'ajv-formats';
import type { FastifyInstance } from 'fastify';

type FormatsPlugin = typeof addFormatsImport.default;
// ajv-formats is CommonJS; see packages/model/src/validation.ts for why this cast is needed.
const addFormats: FormatsPlugin =
  (addFormatsImport as unknown as { default?: FormatsPlugin }).default ?? (addFormatsImport as unknown as FormatsPlugin);

function ajv(coerce: boolean): Ajv {
  const instance = new Ajv({ allErrors: true, useDefaults: true, removeAdditional: false, coerceTypes: coerce ? 'array' : false, strict: false, allowUnionTypes: true });
  addFormats(instance);
  return instance;
}

export function registerValidators(app: FastifyInstance): void {
  const strict = ajv(false);
  const coercing = ajv(true);
  app.setValidatorCompiler(({ schema, httpPart }) => (httpPart === 'body' ? strict : coercing).compile(schema));
}
