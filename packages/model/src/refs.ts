import { ValidationError } from './errors.ts';

/** Pack names: lower-case, digits, `_` and `-`; what a folder and a ref prefix may be. */
export const PACK_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}$';
/** Names inside a pack (rule, action, trigger type). */
export const NAME_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$';
/** A ref is `pack.name`. */
export const REF_PATTERN = '^[a-z0-9][a-z0-9_-]{0,63}\\.[A-Za-z0-9][A-Za-z0-9_-]{0,127}$';

const refRe = new RegExp(REF_PATTERN);

export interface RefParts {
  pack: string;
  name: string;
}

export function makeRef(pack: string, name: string): string {
  return `${pack}.${name}`;
}

export function isRef(value: string): boolean {
  return refRe.test(value);
}

/** Splits `pack.name`; throws a ValidationError naming `field` when it is not a ref. */
export function parseRef(value: string, field = 'ref'): RefParts {
  if (!refRe.test(value)) {
    throw new ValidationError(`${field} must be a ref 'pack.name'`, [
      { field, message: `'${value.slice(0, 200)}' is not a ref of the form pack.name` },
    ]);
  }
  const dot = value.indexOf('.');
  return { pack: value.slice(0, dot), name: value.slice(dot + 1) };
}
