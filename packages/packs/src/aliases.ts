/**
 * `aliases/*.yaml`: StackStorm action aliases, chat commands for an action. Loaded and checked
 * only for now: no chat bot runs them yet.
 *
 *   name: restart
 *   action_ref: monitoring.restart_service   # this pack's, or of a pack it depends on, core or chat
 *   formats:
 *     - "restart {{ service }}"
 *     - display: "restart {{ service }} on {{ host }}"
 *       representation: ["restart {{ service }} on {{ host }}", "restart {{ service }} @{{ host }}"]
 *   ack: { enabled: true, format: "restarting…" }
 *   result: { format: "{{ execution.result.stdout }}" }
 *
 * Placeholders must be parameters of the action, and every format must give each required
 * parameter that has no default. Actions of this pack are checked when it loads; those of other
 * packs when it is registered (like rules).
 */
import { aliasFormatShape, isRef, makeRef, NAME_PATTERN, parseAliasFormat, type Action, type ActionAlias, type ActionAliasFormat, type PackManifest } from '@reflex/model';
import { isPlainObject } from './json-schema.ts';
import { fileSchemaErrors, ownershipErrors, placeOf } from './item-file.ts';
import type { Catalog } from './references.ts';
import type { ItemSource, PackFileError } from './types.ts';
import { fileError } from './yaml-source.ts';

/** Packs an alias may point into without depending on them. */
const ALWAYS_AVAILABLE = ['core', 'chat'];

const formatText = { type: 'string', minLength: 1, maxLength: 1024 } as const;
const message = {
  type: 'object',
  additionalProperties: false,
  properties: { enabled: { type: 'boolean', default: true }, format: { type: 'string', maxLength: 4096 } },
} as const;

/** The file as written (snake_case; a format is a string or `{ display?, representation: [...] }`). */
const aliasFileSchema = {
  $id: 'reflex:pack-alias-file',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'action_ref', 'formats'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    pack: { type: 'string' },
    ref: { type: 'string' },
    description: { type: 'string', maxLength: 4096 },
    enabled: { type: 'boolean', default: true },
    action_ref: { type: 'string' },
    formats: {
      type: 'array',
      minItems: 1,
      maxItems: 100,
      // Keywords apply to their own type only: a string is checked as text, a mapping as a format object.
      items: {
        type: ['string', 'object'],
        minLength: formatText.minLength,
        maxLength: formatText.maxLength,
        additionalProperties: false,
        required: ['representation'],
        properties: { display: formatText, representation: { type: 'array', minItems: 1, maxItems: 100, items: formatText } },
      },
    },
    ack: { ...message, properties: { ...message.properties, append_url: { type: 'boolean' } } },
    result: message,
  },
} as const;

const SPELLINGS = { actionRef: 'action_ref', representations: 'representation', appendUrl: 'append_url' };

/** Where each text of a normalised format was written: `formats.0` (a string) or `formats.1.representation.0`. */
function formatFields(source: ItemSource, index: number, format: ActionAliasFormat): { display?: string; representations: string[] } {
  const base = `formats.${index}`;
  if (source.positions[`${base}.representation`] === undefined) return { representations: [base] };
  return {
    ...(source.positions[`${base}.display`] === undefined ? {} : { display: `${base}.display` }),
    representations: format.representations.map((_r, j) => `${base}.representation.${j}`),
  };
}

/** Every text of an alias with the field it was written in: displays, then representations. */
function formatTexts(alias: ActionAlias, source: ItemSource): Array<{ text: string; field: string; representation: boolean }> {
  return alias.formats.flatMap((format, i) => {
    const fields = formatFields(source, i, format);
    const display = fields.display === undefined ? [] : [{ text: format.display, field: fields.display, representation: false }];
    const representations = format.representations.map((text, j) => ({ text, field: fields.representations[j] ?? `formats.${i}`, representation: true }));
    return [...display, ...representations];
  });
}

export interface LoadedAlias {
  /** The alias, whenever the file has its shape (even with other errors, so later checks still run). */
  alias?: ActionAlias;
  errors: PackFileError[];
}

/**
 * Checks one alias file. `action` knows this pack's actions (`'skip'` for other packs' and for one
 * whose own file is broken); `manifest`, when readable, says which packs the alias may point into.
 */
export function loadAlias(value: Record<string, unknown>, source: ItemSource, pack: string, manifest: PackManifest | null, action: Catalog['action']): LoadedAlias {
  const file = { ...value };
  const errors = ownershipErrors(value, source, pack);
  errors.push(...fileSchemaErrors(aliasFileSchema, file, source, SPELLINGS));
  if (errors.length > 0) return { errors };

  const formats: ActionAliasFormat[] = (file['formats'] as unknown[]).map((f) => {
    if (typeof f === 'string') return { display: f, representations: [f] };
    const format = f as { display?: string; representation: string[] };
    return { display: format.display ?? format.representation[0] ?? '', representations: format.representation };
  });
  const name = file['name'] as string;
  const actionRef = file['action_ref'] as string;
  const ack = file['ack'];
  const result = file['result'];
  const alias: ActionAlias = {
    ref: makeRef(pack, name),
    pack,
    name,
    ...(typeof file['description'] === 'string' ? { description: file['description'] } : {}),
    enabled: file['enabled'] as boolean,
    actionRef,
    formats,
    ...(isPlainObject(ack) ? { ack: messageOf(ack, true) } : {}),
    ...(isPlainObject(result) ? { result: messageOf(result, false) } : {}),
  };

  for (const { text, field } of formatTexts(alias, source)) {
    for (const problem of parseAliasFormat(text).problems) errors.push(fileError(source, field, problem));
  }
  if (!isRef(actionRef)) {
    errors.push(fileError(source, 'action_ref', `must be an action ref (pack.name), like '${makeRef(pack, 'restart_service')}'`));
  } else {
    const target = actionRef.slice(0, actionRef.indexOf('.'));
    const dependencies = Object.keys(manifest?.dependencies ?? {});
    if (target !== pack && manifest !== null && !dependencies.includes(target) && !ALWAYS_AVAILABLE.includes(target)) {
      errors.push(fileError(source, 'action_ref', `'${actionRef}' is an action of pack '${target}', which ${pack} does not depend on: add ${target} to dependencies in pack.yaml`));
    } else {
      errors.push(...aliasActionErrors(alias, source, action));
    }
  }
  return { alias, errors };
}

function messageOf(value: Record<string, unknown>, ack: boolean): NonNullable<ActionAlias['ack']> {
  return {
    enabled: value['enabled'] as boolean,
    ...(typeof value['format'] === 'string' ? { format: value['format'] } : {}),
    ...(ack && typeof value['append_url'] === 'boolean' ? { appendUrl: value['append_url'] } : {}),
  };
}

/**
 * Checks an alias against its action, when `action` knows it: every placeholder is one of the
 * action's parameters, and every representation gives each required parameter that has no default.
 * Used when the pack loads (its own actions) and when it is registered (other packs' actions).
 */
export function aliasActionErrors(alias: ActionAlias, source: ItemSource, action: Catalog['action']): PackFileError[] {
  const target = action(alias.actionRef);
  if (target === 'skip') return [];
  if (target === undefined) return [fileError(source, 'action_ref', `unknown action '${alias.actionRef}'`)];
  const { names, open, needed } = parametersOf(target);
  const errors: PackFileError[] = [];
  for (const { text, field, representation } of formatTexts(alias, source)) {
    const placeholders = parseAliasFormat(text).placeholders.map((p) => p.name);
    for (const name of placeholders) {
      if (open || names.includes(name)) continue;
      const known = names.length === 0 ? 'it has none' : `its parameters: ${names.join(', ')}`;
      errors.push(fileError(source, field, `placeholder '${name}' is not a parameter of '${target.ref}' (${known})`));
    }
    const missing = representation ? needed.filter((n) => !placeholders.includes(n)) : [];
    if (missing.length > 0) {
      const list = missing.map((n) => `'${n}'`).join(', ');
      errors.push(fileError(source, field, `does not give ${list}: ${missing.length === 1 ? 'a required parameter' : 'required parameters'} of '${target.ref}' without a default (add {{ ${missing[0]} }})`));
    }
  }
  return errors;
}

/** An action's parameter names, whether it takes others too, and the required ones without a default. */
function parametersOf(action: Action): { names: string[]; open: boolean; needed: string[] } {
  const schema = action.parametersSchema;
  const properties = isPlainObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? schema['required'].filter((r): r is string => typeof r === 'string') : [];
  const needed = required.filter((name) => {
    const property = properties[name];
    return !(isPlainObject(property) && 'default' in property);
  });
  return { names: Object.keys(properties), open: schema['additionalProperties'] !== false, needed };
}

/** The representations of the pack's aliases so far, by shape, with where each was written. */
export type FormatClaims = Map<string, string>;

/**
 * Two representations that match the same messages (same text but for placeholder names and
 * spacing), in one alias or two of the pack, are an error on the later one. Records the others.
 */
export function duplicateFormatErrors(claims: FormatClaims, alias: ActionAlias, source: ItemSource): PackFileError[] {
  const errors: PackFileError[] = [];
  for (const { text, field, representation } of formatTexts(alias, source)) {
    if (!representation) continue;
    const shape = aliasFormatShape(text);
    const earlier = claims.get(shape);
    if (earlier !== undefined) errors.push(fileError(source, field, `duplicate format '${text}': matches the same messages as ${earlier}`));
    else claims.set(shape, placeOf(source, field));
  }
  return errors;
}
