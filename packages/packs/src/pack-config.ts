/**
 * A pack's configuration values: what `config.schema.yaml` describes, given by the site in
 * `<config dir>/<pack>.yaml` or through the API. Values are checked against the schema (defaults
 * filled in) and kept in the datastore under the internal scope `packs.config`, one entry per pack
 * (name: the pack, value: the configuration object). Properties marked `secret: true` are sealed
 * there one by one, with sealing functions the caller injects (this package never sees the key).
 */
import { stat } from 'node:fs/promises';
import path from 'node:path';
import {
  ajvDetails,
  compileUserSchema,
  KV_VALUE_MAX_BYTES,
  NotFoundError,
  SECRET_MASK,
  ValidationError,
  type ErrorDetail,
  type JsonObject,
  type JsonSchema,
  type JsonValue,
} from '@reflex/model';
import type { Store } from '@reflex/store';
import { isPlainObject, mergeDetails } from './json-schema.ts';
import type { PackFileError } from './types.ts';
import { fileError, readYamlFile } from './yaml-source.ts';

/** The datastore scope holding configuration values (internal: `/v1/keys` cannot reach it). */
export const PACK_CONFIG_SCOPE = 'packs.config';

/**
 * Seals and opens one JSON value bound to a scope and name, e.g. with @reflex/auth:
 * `{ seal: (s, n, v) => sealKeyValue(key, s, n, v), open: (s, n, v) => openKeyValue(key, s, n, v) }`
 * (or `kvSealing(key)`). A secret property `p` of pack `x` is bound to scope `packs.config`, name `x/p`.
 */
export interface ConfigSealing {
  seal(scope: string, name: string, value: JsonValue): string;
  open(scope: string, name: string, sealed: JsonValue): JsonValue;
}

/** The names of the top-level properties a configuration schema marks `secret: true`. */
export function secretProperties(schema: JsonSchema | undefined): string[] {
  const properties = schema?.['properties'];
  if (!isPlainObject(properties)) return [];
  return Object.entries(properties)
    .filter(([, p]) => isPlainObject(p) && p['secret'] === true)
    .map(([name]) => name);
}

/**
 * Checks `values` against `schema` and returns a copy with the schema's defaults filled in, or the
 * problems, each naming its field under `root` (`api_key`, `body.api_key`).
 */
export function checkConfigValues(schema: JsonSchema, values: unknown, root = ''): { values: JsonObject } | { details: ErrorDetail[] } {
  if (!isPlainObject(values)) return { details: [{ field: root, message: 'must be a mapping of property name to value' }] };
  const copy = structuredClone(values) as JsonObject;
  const validate = compileUserSchema(schema, 'config.schema.yaml');
  if (validate(copy)) return { values: copy };
  return { details: mergeDetails(ajvDetails(validate.errors, root)) };
}

/** What `loadPackConfigFile` found. */
export interface PackConfigFile {
  /** The file as `<config dir>/<pack>.yaml` (how errors name it), or null when the pack has none. */
  file: string | null;
  /** The checked values with defaults filled in; null when there is no file or it has errors. */
  values: JsonObject | null;
  /** Each problem as `file:line field`. */
  errors: PackFileError[];
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile();
  } catch {
    return false;
  }
}

/**
 * Reads a pack's site configuration, `<configDir>/<packName>.yaml` (or `.yml`), and checks it
 * against the pack's configuration schema. No file: no values and no error. An empty file is `{}`.
 */
export async function loadPackConfigFile(configDir: string, packName: string, schema: JsonSchema): Promise<PackConfigFile> {
  let file: string | null = null;
  for (const ext of ['yaml', 'yml']) {
    const candidate = path.join(configDir, `${packName}.${ext}`);
    if (await isFile(candidate)) {
      file = candidate;
      break;
    }
  }
  if (file === null) return { file: null, values: null, errors: [] };
  const shown = file.split(path.sep).join('/');
  const parsed = await readYamlFile(file, shown);
  if (parsed.errors.length > 0) return { file: shown, values: null, errors: parsed.errors };
  const checked = checkConfigValues(schema, parsed.value ?? {});
  if ('details' in checked) {
    return { file: shown, values: null, errors: checked.details.map((d) => fileError(parsed.source, d.field, d.message)) };
  }
  return { file: shown, values: checked.values, errors: [] };
}

const sealedName = (pack: string, property: string): string => `${pack}/${property}`;

function masked(values: JsonObject, secrets: readonly string[]): JsonObject {
  const out: JsonObject = { ...values };
  for (const name of secrets) if (Object.hasOwn(out, name)) out[name] = SECRET_MASK;
  return out;
}

/** Fills in the schema's defaults; values that no longer pass (the schema changed) are kept as they are. */
function withDefaults(schema: JsonSchema, values: JsonObject): JsonObject {
  const copy = structuredClone(values);
  compileUserSchema(schema, 'config.schema.yaml')(copy);
  return copy;
}

/**
 * Stores checked values (defaults already in) of `pack`, sealing its secret properties. For
 * registration (file values) and `PackConfigs.put`.
 */
export async function writePackConfig(store: Store, sealing: ConfigSealing, pack: string, schema: JsonSchema, values: JsonObject): Promise<void> {
  const stored: JsonObject = { ...values };
  for (const name of secretProperties(schema)) {
    const value = stored[name];
    if (value !== undefined) stored[name] = sealing.seal(PACK_CONFIG_SCOPE, sealedName(pack, name), value);
  }
  await store.keys.put({ scope: PACK_CONFIG_SCOPE, name: pack, value: stored });
}

/** A pack's configuration values, for sensors, actions and the API. */
export interface PackConfigs {
  /**
   * The values with secrets opened and defaults filled in: what a sensor's or action's `config` is.
   * `{}` (plus defaults) when nothing was set; `{}` for a pack without a config.schema.yaml.
   * NotFoundError when the pack is not registered; ReflexError SECRET_UNREADABLE when a secret
   * does not open (another secrets key).
   */
  get(pack: string): Promise<JsonObject>;
  /** The same with every secret property that has a value shown as `********`: for people. */
  getMasked(pack: string): Promise<JsonObject>;
  /**
   * Replaces the values as a whole after checking them against the pack's schema (defaults filled
   * in); a secret given as `********` keeps its stored value. ValidationError naming each field
   * under `options.root` (nothing written); NotFoundError when the pack is not registered.
   * Returns the stored values, masked.
   */
  put(pack: string, values: unknown, options?: { root?: string }): Promise<JsonObject>;
  /** Deletes the pack's values; false when there were none. */
  delete(pack: string): Promise<boolean>;
}

/** Configuration values of the registered packs of `store`; secrets sealed and opened with `sealing`. */
export function packConfigs(store: Store, sealing: ConfigSealing): PackConfigs {
  const schemaOf = async (pack: string): Promise<JsonSchema | undefined> => {
    const registered = await store.packs.get(pack);
    if (registered === null) throw new NotFoundError('pack', pack);
    return registered.configSchema;
  };
  const storedOf = async (pack: string): Promise<JsonObject> => {
    const entry = await store.keys.get(PACK_CONFIG_SCOPE, pack);
    return entry !== null && isPlainObject(entry.value) ? (entry.value as JsonObject) : {};
  };
  const open = (pack: string, schema: JsonSchema, stored: JsonObject): JsonObject => {
    const values: JsonObject = { ...stored };
    for (const name of secretProperties(schema)) {
      const value = values[name];
      if (value !== undefined) values[name] = sealing.open(PACK_CONFIG_SCOPE, sealedName(pack, name), value);
    }
    return values;
  };

  return {
    async get(pack) {
      const schema = await schemaOf(pack);
      if (schema === undefined) return {};
      return withDefaults(schema, open(pack, schema, await storedOf(pack)));
    },

    async getMasked(pack) {
      const schema = await schemaOf(pack);
      if (schema === undefined) return {};
      // Sealed values are never opened here: the mask replaces them as they are.
      return masked(withDefaults(schema, await storedOf(pack)), secretProperties(schema));
    },

    async put(pack, values, options = {}) {
      const root = options.root ?? '';
      const schema = await schemaOf(pack);
      if (schema === undefined) {
        throw new ValidationError(`pack '${pack}' has no config.schema.yaml: it takes no configuration`, [
          { field: root, message: `pack '${pack}' takes no configuration (it has no config.schema.yaml)` },
        ]);
      }
      const secrets = secretProperties(schema);
      let given: unknown = values;
      if (isPlainObject(values) && secrets.some((name) => values[name] === SECRET_MASK)) {
        // `********` (what GET shows) keeps the stored secret, so a shown configuration can be sent back edited.
        const current = open(pack, schema, await storedOf(pack));
        const copy: Record<string, unknown> = { ...values };
        const missing: ErrorDetail[] = [];
        for (const name of secrets) {
          if (copy[name] !== SECRET_MASK) continue;
          if (current[name] === undefined) missing.push({ field: root === '' ? name : `${root}.${name}`, message: `is ${SECRET_MASK} but no value is stored: give the value itself` });
          else copy[name] = current[name];
        }
        if (missing.length > 0) throw new ValidationError(`configuration of pack '${pack}' is invalid: ${missing[0]?.field} ${missing[0]?.message}`, missing);
        given = copy;
      }
      const checked = checkConfigValues(schema, given, root);
      if ('details' in checked) {
        const first = checked.details[0];
        throw new ValidationError(`configuration of pack '${pack}' is invalid: ${first?.field ?? root} ${first?.message ?? ''}`.trimEnd(), checked.details);
      }
      const bytes = Buffer.byteLength(JSON.stringify(checked.values));
      if (bytes > KV_VALUE_MAX_BYTES) {
        throw new ValidationError(`configuration of pack '${pack}' is ${bytes} bytes`, [{ field: root, message: `is ${bytes} bytes as JSON; the limit is ${KV_VALUE_MAX_BYTES}` }]);
      }
      await writePackConfig(store, sealing, pack, schema, checked.values);
      return masked(checked.values, secrets);
    },

    async delete(pack) {
      return store.keys.delete(PACK_CONFIG_SCOPE, pack);
    },
  };
}
