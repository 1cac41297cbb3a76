/** Checks every item file of a pack shares: who owns it (`pack:`, `ref:`), and its schema in the YAML spelling. */
import { makeRef, validateModel, ValidationError, type JsonSchema } from '@reflex/model';
import type { ItemSource, PackFileError } from './types.ts';
import { fileError, locate } from './yaml-source.ts';

/** `pack` and `ref` may be stated in an item file; when they are, they must agree with the pack. */
export function ownershipErrors(value: Record<string, unknown>, source: ItemSource, pack: string): PackFileError[] {
  const errors: PackFileError[] = [];
  if (value['pack'] !== undefined && value['pack'] !== pack) {
    errors.push(fileError(source, 'pack', `is '${String(value['pack'])}' but the file is in pack '${pack}'`));
  }
  const name = value['name'];
  if (value['ref'] !== undefined && typeof name === 'string' && value['ref'] !== makeRef(pack, name)) {
    errors.push(fileError(source, 'ref', `is '${String(value['ref'])}' but must be '${makeRef(pack, name)}'`));
  }
  return errors;
}

/**
 * Checks `value` (defaults are applied to it) against a schema written in the file's own spelling
 * (snake_case keys). A key the schema does not allow that is the model's spelling of one it does
 * (`actionRef`) says which to write: `spellings` maps model spelling → YAML key.
 */
export function fileSchemaErrors(
  schema: JsonSchema & { $id: string },
  value: Record<string, unknown>,
  source: ItemSource,
  spellings: Record<string, string> = {},
): PackFileError[] {
  try {
    validateModel(schema, value, '', 'pack file');
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return (err.details ?? []).map((d) => {
      const last = d.field.slice(d.field.lastIndexOf('.') + 1);
      const yaml = spellings[last];
      const message = d.message === 'is not allowed' && yaml !== undefined ? `is not allowed (write ${yaml})` : d.message;
      return fileError(source, d.field, message);
    });
  }
}

/** `mon/actions/restart.yaml:12 policies.retry`: a place in another file, for a message. */
export function placeOf(source: ItemSource, field: string): string {
  const { line } = locate(source, field);
  const at = line === undefined ? source.file : `${source.file}:${line}`;
  return field === '' ? at : `${at} ${field}`;
}
