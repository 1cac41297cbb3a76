import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import {
  type ActionPolicies,
  actionSchema,
  makeRef,
  packManifestSchema,
  PACK_NAME_PATTERN,
  ruleInputSchema,
  triggerTypeSchema,
  validateModel,
  ValidationError,
  type Action,
  type ActionAlias,
  type ErrorDetail,
  type JsonSchema,
  type PackManifest,
  type Rule,
  type RuleInput,
  type SensorDefinition,
  type TriggerType,
} from '@reflex/model';
import { compileRule } from '@reflex/rules';
import { duplicateFormatErrors, loadAlias, type FormatClaims } from './aliases.ts';
import { resolveEntryPoint } from './entry-point.ts';
import { manifestVersionErrors } from './dependencies.ts';
import { ownershipErrors } from './item-file.ts';
import { isPlainObject, jsonSchemaDetails } from './json-schema.ts';
import { parametersToSchema } from './parameters.ts';
import { applyPolicies, loadPolicy } from './policies.ts';
import { ruleReferenceErrors, type Catalog } from './references.ts';
import { loadSensor } from './sensors.ts';
import type { ItemSource, LoadedPack, PackFileError, PackPolicy } from './types.ts';
import { fileError, readYamlFile } from './yaml-source.ts';

const packNameRe = new RegExp(PACK_NAME_PATTERN);
const YAML_EXT = /\.ya?ml$/;

/** YAML key → model field, for the keys whose spelling differs. */
const MANIFEST_KEYS = { reflex_version: 'reflexVersion' } as const;
const TRIGGER_KEYS = { parameters_schema: 'parametersSchema', payload_schema: 'payloadSchema' } as const;
const ACTION_KEYS = { runner_type: 'runner', entry_point: 'entryPoint' } as const;
/** Noise control keys of a rule, in `throttle:` and `group:` (their values are kept as they are). */
const NOISE_KEYS: Record<'throttle' | 'group', Record<string, string>> = {
  throttle: { group_by: 'groupBy' },
  group: {
    group_by: 'groupBy',
    group_wait: 'groupWait',
    group_interval: 'groupInterval',
    repeat_interval: 'repeatInterval',
    alert_key: 'alertKey',
    notify_resolved: 'notifyResolved',
    resolve_timeout: 'resolveTimeout',
  },
};

/**
 * `throttle:` and `group:` are written snake_case (`group_by`, `group_wait`), like the rest of a
 * pack; the model is camelCase. Only their own keys are renamed: `resolved` is JSON-logic and stays
 * as written. A model spelling in YAML is an error naming the YAML spelling.
 */
function noiseToModel(value: Record<string, unknown>, source: ItemSource): PackFileError[] {
  const errors: PackFileError[] = [];
  for (const part of ['throttle', 'group'] as const) {
    const spec = value[part];
    if (!isPlainObject(spec)) continue;
    const converted = toModel(spec, { ...source, positions: {} }, NOISE_KEYS[part]);
    errors.push(...converted.errors.map((e) => fileError(source, `${part}.${e.field}`, e.message)));
    value[part] = converted.model;
  }
  return errors;
}

/**
 * A rule document written the pack way (`group_by` in `throttle:`/`group:`) in the model's spelling,
 * for tools outside a pack folder (`reflex rule apply`, `rule test`): snake_case keys are renamed, keys
 * already in the model's spelling are kept. Returns a copy.
 */
export function ruleNoiseKeysToModel(document: Record<string, unknown>): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...document };
  for (const part of ['throttle', 'group'] as const) {
    const spec = copy[part];
    if (!isPlainObject(spec)) continue;
    copy[part] = Object.fromEntries(Object.entries(spec).map(([key, value]) => [NOISE_KEYS[part][key] ?? key, value]));
  }
  return copy;
}

/** A rule error's field (model spelling) as the YAML author wrote it: `group.groupWait` → `group.group_wait`. */
function ruleYamlField(field: string): string {
  const [part, key, ...rest] = field.split('.');
  if ((part !== 'throttle' && part !== 'group') || key === undefined) return field;
  const yaml = Object.entries(NOISE_KEYS[part]).find(([, f]) => f === key)?.[0] ?? key;
  return [part, yaml, ...rest].join('.');
}

interface Converted {
  model: Record<string, unknown>;
  errors: PackFileError[];
}

/**
 * Renames snake_case YAML keys to the model's fields. A model spelling written in YAML
 * (`entryPoint`) is an error naming the YAML spelling, so it cannot slip past the schema.
 */
function toModel(value: Record<string, unknown>, source: ItemSource, keys: Record<string, string>, reserved: string[] = []): Converted {
  const model: Record<string, unknown> = {};
  const errors: PackFileError[] = [];
  const yamlSpelling = new Map(Object.entries(keys).map(([yaml, field]) => [field, yaml]));
  for (const [key, v] of Object.entries(value)) {
    const field = keys[key];
    if (field !== undefined) model[field] = v;
    else if (yamlSpelling.has(key)) errors.push(fileError(source, key, `is not allowed (write ${yamlSpelling.get(key)})`));
    else if (reserved.includes(key)) errors.push(fileError(source, key, 'is not allowed'));
    else model[key] = v;
  }
  return { model, errors };
}

/** Model field → YAML key, for error paths. */
function toYamlField(field: string, keys: Record<string, string>): string {
  const dot = field.indexOf('.');
  const head = dot < 0 ? field : field.slice(0, dot);
  const yaml = Object.entries(keys).find(([, f]) => f === head)?.[0];
  return yaml === undefined ? field : yaml + field.slice(head.length);
}

function modelErrors(
  schema: JsonSchema & { $id: string },
  model: unknown,
  source: ItemSource,
  keys: Record<string, string> = {},
): PackFileError[] {
  try {
    validateModel(schema, model, '', 'pack file');
    return [];
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    return (err.details ?? []).map((d) => fileError(source, toYamlField(d.field, keys), d.message));
  }
}

function detailErrors(details: ErrorDetail[], source: ItemSource): PackFileError[] {
  return details.map((d) => fileError(source, d.field, d.message));
}

interface PackFile {
  abs: string;
  rel: string;
}

class PackReader {
  readonly dir: string;
  readonly base: string;
  readonly errors: PackFileError[] = [];

  constructor(dir: string) {
    this.dir = dir;
    this.base = path.dirname(dir);
  }

  file(...segments: string[]): PackFile {
    const abs = path.join(this.dir, ...segments);
    return { abs, rel: path.relative(this.base, abs).split(path.sep).join('/') };
  }

  /** The YAML files of a sub-folder, by name; a missing folder has none. */
  async list(folder: string): Promise<PackFile[]> {
    let names: string[];
    try {
      const entries = await readdir(path.join(this.dir, folder), { withFileTypes: true });
      names = entries.filter((e) => (e.isFile() || e.isSymbolicLink()) && YAML_EXT.test(e.name)).map((e) => e.name);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') return [];
      throw new Error(`cannot list ${path.join(this.dir, folder)}`, { cause: err });
    }
    return names.sort().map((name) => this.file(folder, name));
  }

  /** Parses a file; returns its mapping (or undefined, with the errors recorded) and its source. */
  async read(file: PackFile): Promise<{ value: Record<string, unknown> | undefined; source: ItemSource }> {
    const parsed = await readYamlFile(file.abs, file.rel);
    this.errors.push(...parsed.errors);
    if (parsed.errors.length > 0) return { value: undefined, source: parsed.source };
    if (!isPlainObject(parsed.value)) {
      this.errors.push(fileError(parsed.source, '', 'must be a YAML mapping (key: value pairs)'));
      return { value: undefined, source: parsed.source };
    }
    return { value: parsed.value, source: parsed.source };
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

/** A stand-in Rule for compiling a RuleInput (timestamps do not matter to compilation). */
function asRule(input: RuleInput): Rule {
  const epoch = new Date(0).toISOString();
  return { ...input, ref: makeRef(input.pack, input.name), enabled: input.enabled ?? true, source: 'pack', createdAt: epoch, updatedAt: epoch };
}

interface Registry<T> {
  items: T[];
  sources: ItemSource[];
  /** Every name some file claimed, valid or not, with the first file that did. */
  claimed: Map<string, string>;
}

function registry<T>(): Registry<T> {
  return { items: [], sources: [], claimed: new Map() };
}

/** Records the name; a second claim is an error on the later file. */
function claim<T>(reg: Registry<T>, kind: string, value: Record<string, unknown>, source: ItemSource): PackFileError | undefined {
  const name = value['name'];
  if (typeof name !== 'string') return undefined;
  const first = reg.claimed.get(name);
  if (first !== undefined) return fileError(source, 'name', `duplicate ${kind} name '${name}' (also in ${first})`);
  reg.claimed.set(name, source.file);
  return undefined;
}

/**
 * Reads and checks one pack folder: `pack.yaml`, `config.schema.yaml`, `triggers/`, `actions/`,
 * `policies/`, `rules/`, `sensors/`, `aliases/`. Enabled policies are set on their actions. Never
 * throws for what is in the files: every problem, in every file, is in `errors` with its file, line
 * and field. Rule (and alias, sensor) references to other packs are checked at registration.
 */
export async function loadPack(dir: string): Promise<LoadedPack> {
  const reader = new PackReader(path.resolve(dir));
  const errors = reader.errors;

  const manifestFile = reader.file('pack.yaml');
  let manifest: PackManifest | null = null;
  let manifestSource: ItemSource | null = null;
  let packName = path.basename(reader.dir);
  if (!packNameRe.test(packName)) packName = 'unnamed';
  if (await exists(manifestFile.abs)) {
    const { value, source } = await reader.read(manifestFile);
    manifestSource = source;
    if (value !== undefined) {
      const { model, errors: keyErrors } = toModel(value, source, MANIFEST_KEYS);
      const found = [...keyErrors, ...modelErrors(packManifestSchema, model, source, MANIFEST_KEYS)];
      errors.push(...found);
      if (typeof model['name'] === 'string' && packNameRe.test(model['name'])) packName = model['name'];
      if (found.length === 0) {
        manifest = model as unknown as PackManifest;
        errors.push(...manifestVersionErrors(manifest, source));
      }
    }
  } else {
    errors.push({ file: manifestFile.rel, field: '', message: 'is missing: every pack has a pack.yaml (name, version)' });
  }

  let configSchema: JsonSchema | undefined;
  for (const name of ['config.schema.yaml', 'config.schema.yml']) {
    const file = reader.file(name);
    if (!(await exists(file.abs))) continue;
    const { value, source } = await reader.read(file);
    if (value === undefined) continue;
    const checked = configSchemaOf(value);
    errors.push(...detailErrors(checked.details, source));
    if (checked.details.length === 0) configSchema = checked.schema;
  }

  const triggers = registry<TriggerType>();
  for (const file of await reader.list('triggers')) {
    const { value, source } = await reader.read(file);
    if (value === undefined) continue;
    const found = loadTriggerType(value, source, packName);
    const duplicate = claim(triggers, 'trigger type', value, source);
    if (duplicate !== undefined) found.errors.push(duplicate);
    errors.push(...found.errors);
    if (found.errors.length === 0 && found.item !== undefined) {
      triggers.items.push(found.item);
      triggers.sources.push(source);
    }
  }

  const actions = registry<Action>();
  for (const file of await reader.list('actions')) {
    const { value, source } = await reader.read(file);
    if (value === undefined) continue;
    const found = await loadAction(value, source, packName, reader.dir);
    const duplicate = claim(actions, 'action', value, source);
    if (duplicate !== undefined) found.errors.push(duplicate);
    errors.push(...found.errors);
    if (found.errors.length === 0 && found.item !== undefined) {
      actions.items.push(found.item);
      actions.sources.push(source);
    }
  }

  // Rules may point into this pack (checked here) or into others (checked at registration).
  // A name some file claimed but got wrong is skipped: its own file already reports why.
  const lookup = <T extends { name: string }>(reg: Registry<T>, ref: string): T | undefined | 'skip' => {
    const dot = ref.indexOf('.');
    if (ref.slice(0, dot) !== packName) return 'skip';
    const name = ref.slice(dot + 1);
    return reg.items.find((i) => i.name === name) ?? (reg.claimed.has(name) ? 'skip' : undefined);
  };
  const own: Catalog = { triggerType: (ref) => lookup(triggers, ref), action: (ref) => lookup(actions, ref) };

  // Policies on this pack's actions: each enabled one is set on its action, as if its file said it.
  const policies = registry<PackPolicy>();
  for (const file of await reader.list('policies')) {
    const { value, source } = await reader.read(file);
    if (value === undefined) continue;
    const found = loadPolicy(value, source, packName, own.action);
    const duplicate = claim(policies, 'policy', value, source);
    if (duplicate !== undefined) found.errors.push(duplicate);
    errors.push(...found.errors);
    if (found.errors.length === 0 && found.item !== undefined) {
      policies.items.push(found.item);
      policies.sources.push(source);
    }
  }
  const applied = applyPolicies(actions.items, actions.sources, policies.items, policies.sources);
  errors.push(...applied.errors);

  const rules = registry<RuleInput>();
  for (const file of await reader.list('rules')) {
    const { value, source } = await reader.read(file);
    if (value === undefined) continue;
    const found = loadRule(value, source, packName, own);
    const duplicate = claim(rules, 'rule', value, source);
    if (duplicate !== undefined) found.errors.push(duplicate);
    errors.push(...found.errors);
    if (found.errors.length === 0 && found.item !== undefined) {
      rules.items.push(found.item);
      rules.sources.push(source);
    }
  }

  const sensors = registry<SensorDefinition>();
  for (const file of await reader.list('sensors')) {
    const { value, source } = await reader.read(file);
    if (value === undefined) continue;
    const found = await loadSensor(value, source, packName, reader.dir, own.triggerType);
    const duplicate = claim(sensors, 'sensor', value, source);
    if (duplicate !== undefined) found.errors.push(duplicate);
    errors.push(...found.errors);
    if (found.errors.length === 0 && found.item !== undefined) {
      sensors.items.push(found.item);
      sensors.sources.push(source);
    }
  }

  // Aliases: chat commands for actions of this pack (checked here) or of others (at registration).
  const aliases = registry<ActionAlias>();
  const formats: FormatClaims = new Map();
  for (const file of await reader.list('aliases')) {
    const { value, source } = await reader.read(file);
    if (value === undefined) continue;
    const found = loadAlias(value, source, packName, manifest, own.action);
    const duplicate = claim(aliases, 'alias', value, source);
    if (duplicate !== undefined) found.errors.push(duplicate);
    if (found.alias !== undefined) found.errors.push(...duplicateFormatErrors(formats, found.alias, source));
    errors.push(...found.errors);
    if (found.errors.length === 0 && found.alias !== undefined) {
      aliases.items.push(found.alias);
      aliases.sources.push(source);
    }
  }

  return {
    dir: reader.dir,
    manifest,
    triggerTypes: triggers.items,
    actions: actions.items,
    rules: rules.items,
    sensors: sensors.items,
    policies: applied.policies,
    aliases: aliases.items,
    errors,
    sources: {
      manifest: manifestSource,
      triggerTypes: triggers.sources,
      actions: actions.sources,
      rules: rules.sources,
      sensors: sensors.sources,
      policies: applied.sources,
      aliases: aliases.sources,
    },
    ...(configSchema === undefined ? {} : { configSchema }),
  };
}

interface Loaded<T> {
  item?: T;
  errors: PackFileError[];
}

/**
 * `config.schema.yaml` is either a JSON Schema (it has a string `type` or a `$schema`) of an object
 * or, as in StackStorm, a map of property name → property schema with `required: true` flags.
 * Returns the JSON Schema configuration values must pass.
 */
function configSchemaOf(value: Record<string, unknown>): { schema: JsonSchema; details: ErrorDetail[] } {
  if (typeof value['type'] === 'string' || typeof value['$schema'] === 'string') {
    if (value['type'] !== 'object') return { schema: value, details: [{ field: 'type', message: "must be 'object': a pack's configuration is a mapping" }] };
    return { schema: value, details: [...jsonSchemaDetails(value, ''), ...nestedSecretDetails(value, '', 2)] };
  }
  const converted = parametersToSchema(value, '');
  return { schema: converted.schema, details: [...converted.details.map((d) => ({ ...d, field: d.field.replace(/^\./, '') })), ...nestedSecretDetails(value, '', 1)] };
}

/** Keywords whose values are data, not schemas: a `secret` key inside them is not a marker. */
const DATA_KEYWORDS = new Set(['default', 'examples', 'enum', 'const']);

/**
 * `secret: true` is honoured on the configuration's top-level properties only (they are sealed one
 * by one); anywhere deeper it would be silently stored in the clear, so it is an error. `topDepth`:
 * how deep a top-level property's `secret` sits (`properties.x.secret` = 2, StackStorm's `x.secret` = 1).
 */
function nestedSecretDetails(value: unknown, path: string, topDepth: number, depth = 0): ErrorDetail[] {
  if (value === null || typeof value !== 'object') return [];
  const out: ErrorDetail[] = [];
  for (const [key, child] of Object.entries(value as Record<string, unknown>)) {
    const field = path === '' ? key : `${path}.${key}`;
    if (key === 'secret' && child === true && depth !== topDepth) {
      out.push({ field, message: 'secret: true works only on top-level properties of the configuration (nested values are not sealed); move the secret to the top level' });
    } else if (!DATA_KEYWORDS.has(key)) {
      out.push(...nestedSecretDetails(child, field, topDepth, depth + 1));
    }
  }
  return out;
}

function loadTriggerType(value: Record<string, unknown>, source: ItemSource, pack: string): Loaded<TriggerType> {
  const { model, errors } = toModel(value, source, TRIGGER_KEYS);
  errors.push(...ownershipErrors(value, source, pack));
  model['pack'] = pack;
  delete model['ref'];
  errors.push(...modelErrors(triggerTypeSchema, model, source, TRIGGER_KEYS));
  for (const [yaml, field] of Object.entries(TRIGGER_KEYS)) {
    if (model[field] !== undefined) errors.push(...detailErrors(jsonSchemaDetails(model[field], yaml), source));
  }
  if (errors.length > 0) return { errors };
  const name = model['name'] as string;
  const item: TriggerType = { ref: makeRef(pack, name), pack, name };
  if (typeof model['description'] === 'string') item.description = model['description'];
  if (isPlainObject(model['parametersSchema'])) item.parametersSchema = model['parametersSchema'];
  if (isPlainObject(model['payloadSchema'])) item.payloadSchema = model['payloadSchema'];
  if (isPlainObject(model['webhook'])) {
    // A webhook trigger type is reached through its rules' `url` parameter: its schema must ask for one.
    const required = isPlainObject(item.parametersSchema) ? item.parametersSchema['required'] : undefined;
    if (!Array.isArray(required) || !required.includes('url')) {
      return { errors: [fileError(source, 'parameters_schema', 'a webhook trigger type needs a required `url` parameter (the path under /v1/webhooks/)')] };
    }
    item.webhook = model['webhook'] as TriggerType['webhook'] & object;
  }
  return { item, errors };
}

/** `policies:` is written snake_case in YAML (`max_attempts`); the model is camelCase. */
function camelPolicies(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(camelPolicies);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value as Record<string, unknown>).map(([k, v]) => [k.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase()), camelPolicies(v)]),
  );
}

async function loadAction(value: Record<string, unknown>, source: ItemSource, pack: string, packDir: string): Promise<Loaded<Action>> {
  const { model, errors } = toModel(value, source, ACTION_KEYS, ['parametersSchema', 'parameters_schema']);
  if (model['policies'] !== undefined) model['policies'] = camelPolicies(model['policies']);
  errors.push(...ownershipErrors(value, source, pack));
  model['pack'] = pack;
  delete model['ref'];
  const parameters = parametersToSchema(model['parameters'], 'parameters');
  delete model['parameters'];
  model['parametersSchema'] = parameters.schema;
  errors.push(...modelErrors(actionSchema, model, source, ACTION_KEYS));
  errors.push(...detailErrors(parameters.details, source));
  let entryPoint: string | undefined;
  if (typeof model['entryPoint'] === 'string') {
    const resolved = await resolveEntryPoint(packDir, 'actions', model['entryPoint']);
    if ('error' in resolved) errors.push(fileError(source, 'entry_point', resolved.error));
    else entryPoint = resolved.path;
  }
  if (errors.length > 0) return { errors };
  const name = model['name'] as string;
  const description = model['description'];
  const item: Action = {
    ref: makeRef(pack, name),
    pack,
    name,
    ...(typeof description === 'string' ? { description } : {}),
    enabled: model['enabled'] as boolean,
    runner: model['runner'] as string,
    ...(entryPoint !== undefined ? { entryPoint } : {}),
    parametersSchema: parameters.schema,
    ...(model['policies'] !== undefined ? { policies: model['policies'] as ActionPolicies } : {}),
  };
  return { item, errors };
}

function loadRule(value: Record<string, unknown>, source: ItemSource, pack: string, own: Catalog): Loaded<RuleInput> {
  const errors = ownershipErrors(value, source, pack);
  const model: Record<string, unknown> = { ...value, pack };
  delete model['ref'];
  errors.push(...noiseToModel(model, source));
  const schemaErrors = modelErrors(ruleInputSchema, model, source).map((e) => (e.field === ruleYamlField(e.field) ? e : fileError(source, ruleYamlField(e.field), e.message)));
  if (errors.length > 0 || schemaErrors.length > 0) return { errors: [...errors, ...schemaErrors] };
  const input = model as unknown as RuleInput;
  try {
    compileRule(asRule(input));
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    errors.push(...detailErrors((err.details ?? [{ field: '', message: err.message }]).map((d) => ({ ...d, field: ruleYamlField(d.field) })), source));
  }
  errors.push(...ruleReferenceErrors(input, source, own));
  return errors.length > 0 ? { errors } : { item: input, errors };
}
