import path from 'node:path';
import { makeRef, NotFoundError, ValidationError, type Action, type JsonObject, type Pack, type Rule, type TriggerType } from '@reflex/model';
import type { Store } from '@reflex/store';
import { aliasActionErrors } from './aliases.ts';
import { cycleText, dependencyCycles, dependencyErrors, dependencyOrder, REFLEX_VERSION, type AvailablePack } from './dependencies.ts';
import { markDuplicateNames } from './discover.ts';
import { loadPackConfigFile, PACK_CONFIG_SCOPE, writePackConfig, type ConfigSealing } from './pack-config.ts';
import { ruleReferenceErrors, type Catalog } from './references.ts';
import { sensorReferenceErrors } from './sensors.ts';
import type { LoadedPack, PackFileError, PackRegistration, RegisterResult, UnregisterResult } from './types.ts';
import { fileError } from './yaml-source.ts';

/** `core/rules/a.yaml:12 action.ref`: where an author looks. */
export function errorLocation(error: PackFileError): string {
  const at = error.line === undefined ? error.file : `${error.file}:${error.line}`;
  return error.field === '' ? at : `${at} ${error.field}`;
}

/** A ValidationError carrying every problem, each detail's field being `file:line field`. */
export function packValidationError(pack: { dir: string; name: string | null }, errors: PackFileError[]): ValidationError {
  const details = errors.map((e) => ({ field: errorLocation(e), message: e.message }));
  const first = details[0];
  const what = `pack '${pack.name ?? path.basename(pack.dir)}'`;
  const count = errors.length === 1 ? '1 error' : `${errors.length} errors`;
  const summary = first === undefined ? '' : `: ${first.field}: ${first.message}`;
  return new ValidationError(`${what} has ${count}${summary}`, details);
}

interface Candidate {
  loaded: LoadedPack;
  name: string | null;
  errors: PackFileError[];
  /** Values of the site configuration file, checked, when the pack has a schema and the site a file. */
  config?: { file: string; values: JsonObject };
}

interface StoreView {
  packs: Map<string, Pack>;
  triggerTypes: TriggerType[];
  actions: Action[];
  apiRules: Rule[];
}

async function storeView(store: Store): Promise<StoreView> {
  const [packs, triggerTypes, actions, apiRules] = await Promise.all([
    store.packs.list(),
    store.triggerTypes.list(),
    store.actions.list(),
    store.rules.list({ source: 'api' }),
  ]);
  return { packs: new Map(packs.map((p) => [p.name, p])), triggerTypes, actions, apiRules };
}

/**
 * What rules may point at once `valid` is registered: those packs' content from disk, every
 * other pack's from the store.
 */
function catalogFor(valid: Candidate[], view: StoreView): Catalog {
  const replaced = new Set(valid.map((c) => c.name));
  const triggerTypes = new Map<string, TriggerType>();
  const actions = new Map<string, Action>();
  for (const t of view.triggerTypes) if (!replaced.has(t.pack)) triggerTypes.set(t.ref, t);
  for (const a of view.actions) if (!replaced.has(a.pack)) actions.set(a.ref, a);
  for (const c of valid) {
    for (const t of c.loaded.triggerTypes) triggerTypes.set(t.ref, t);
    for (const a of c.loaded.actions) actions.set(a.ref, a);
  }
  return { triggerType: (ref) => triggerTypes.get(ref), action: (ref) => actions.get(ref) };
}

function crossPackErrors(candidate: Candidate, catalog: Catalog, available: ReadonlyMap<string, AvailablePack>, view: StoreView, reflexVersion: string): PackFileError[] {
  const { loaded } = candidate;
  const errors: PackFileError[] = [];
  const manifestSource = loaded.sources.manifest;
  if (loaded.manifest !== null && manifestSource !== null) errors.push(...dependencyErrors(loaded.manifest, manifestSource, available, reflexVersion));
  loaded.rules.forEach((rule, i) => {
    const source = loaded.sources.rules[i];
    if (source === undefined) return;
    errors.push(...ruleReferenceErrors(rule, source, catalog));
    const ref = makeRef(rule.pack, rule.name);
    if (view.apiRules.some((r) => r.ref === ref)) {
      errors.push(fileError(source, 'name', `rule '${ref}' already exists and was created through the API; rename one of them`));
    }
  });
  loaded.sensors.forEach((sensor, i) => {
    const source = loaded.sources.sensors[i];
    if (source !== undefined) errors.push(...sensorReferenceErrors(sensor, source, catalog.triggerType));
  });
  loaded.aliases.forEach((alias, i) => {
    const source = loaded.sources.aliases[i];
    if (source !== undefined) errors.push(...aliasActionErrors(alias, source, catalog.action));
  });
  return errors;
}

/**
 * Adds an error to every pack of the batch that is part of a dependency cycle, naming the cycle,
 * on the dependency that leads around it. The graph is the batch (the first pack of each name) over
 * the registered packs it does not replace, so a cycle closed by a registered pack counts too.
 */
function markCycles(candidates: Candidate[], view: StoreView): void {
  const graph = new Map<string, string[]>();
  for (const [name, pack] of view.packs) graph.set(name, Object.keys(pack.dependencies ?? {}));
  const first = new Map<string, Candidate>();
  for (const c of candidates) {
    if (c.name === null || c.loaded.manifest === null || first.has(c.name)) continue;
    first.set(c.name, c);
    graph.set(c.name, Object.keys(c.loaded.manifest.dependencies ?? {}));
  }
  const cycles = dependencyCycles(graph);
  for (const [name, c] of first) {
    const cycle = cycles.get(name);
    const source = c.loaded.sources.manifest;
    if (cycle === undefined || source === null) continue;
    c.errors.push(fileError(source, `dependencies.${cycle[1] ?? name}`, cycleText(cycle)));
  }
}

/**
 * Checks what a batch of packs points at (rules → trigger types and actions, dependencies)
 * against the batch itself plus the store, dropping failing packs until the rest is consistent.
 */
function settle(candidates: Candidate[], view: StoreView, reflexVersion: string): void {
  const byPack = new Map(candidates.map((c) => [c.loaded, c]));
  markDuplicateNames(
    candidates.map((c) => c.loaded),
    (pack) => byPack.get(pack)?.errors ?? [],
  );
  markCycles(candidates, view);
  let valid = candidates.filter((c) => c.errors.length === 0 && c.name !== null);
  for (;;) {
    const catalog = catalogFor(valid, view);
    const available = new Map<string, AvailablePack>();
    for (const [name, pack] of view.packs) available.set(name, { version: pack.version, registered: true });
    for (const c of valid) if (c.name !== null && c.loaded.manifest !== null) available.set(c.name, { version: c.loaded.manifest.version, registered: false });
    let dropped = false;
    for (const c of valid) {
      const errors = crossPackErrors(c, catalog, available, view, reflexVersion);
      if (errors.length > 0) {
        c.errors.push(...errors);
        dropped = true;
      }
    }
    if (!dropped) return;
    valid = valid.filter((c) => c.errors.length === 0);
  }
}

async function write(store: Store, loaded: LoadedPack, manifestName: string, now: Date, config?: Candidate['config'] & { sealing: ConfigSealing }): Promise<RegisterResult> {
  const manifest = loaded.manifest;
  if (manifest === null) throw new Error('unreachable: a pack without a manifest is never written');
  const at = now.toISOString();
  const pack: Pack = { ...manifest, path: loaded.dir, registeredAt: at, ...(loaded.configSchema === undefined ? {} : { configSchema: loaded.configSchema }) };
  await store.packs.upsert(pack);
  // The site's file wins over values set through the API, on every registration.
  if (config !== undefined && loaded.configSchema !== undefined) await writePackConfig(store, config.sealing, manifestName, loaded.configSchema, config.values);
  for (const t of loaded.triggerTypes) await store.triggerTypes.upsert(t);
  for (const a of loaded.actions) await store.actions.upsert(a);
  for (const input of loaded.rules) {
    const ref = makeRef(manifestName, input.name);
    const existing = await store.rules.get(ref);
    const rule: Rule = {
      ref,
      pack: manifestName,
      name: input.name,
      ...(input.description !== undefined ? { description: input.description } : {}),
      enabled: input.enabled ?? true,
      trigger: input.trigger,
      ...(input.criteria !== undefined ? { criteria: input.criteria } : {}),
      action: input.action,
      ...(input.throttle !== undefined ? { throttle: input.throttle } : {}),
      ...(input.group !== undefined ? { group: input.group } : {}),
      source: 'pack',
      createdAt: existing?.createdAt ?? at,
      updatedAt: at,
    };
    await store.rules.put(rule);
  }
  const removed = {
    rules: await store.rules.deleteByPack(manifestName, 'pack', loaded.rules.map((r) => makeRef(manifestName, r.name))),
    actions: await store.actions.deleteByPack(manifestName, loaded.actions.map((a) => a.ref)),
    triggerTypes: await store.triggerTypes.deleteByPack(manifestName, loaded.triggerTypes.map((t) => t.ref)),
  };
  return {
    pack: manifestName,
    triggerTypes: loaded.triggerTypes.length,
    actions: loaded.actions.length,
    rules: loaded.rules.length,
    removed,
    ...(config === undefined ? {} : { configFile: config.file }),
  };
}

export interface RegisterOptions {
  /** Stamped on what is written. Default: now. */
  now?: Date;
  /** The running Reflex's version, which a pack's `reflex_version` must not exceed. Default REFLEX_VERSION. */
  reflexVersion?: string;
  /**
   * Site configuration: a pack with a config.schema.yaml and a `<dir>/<pack>.yaml` gets that file's
   * values (checked against the schema; an error refuses the pack) stored, secrets sealed with
   * `sealing`, replacing what was set before. Without this option no configuration file is read.
   */
  config?: { dir: string; sealing: ConfigSealing };
}

/**
 * Registers every pack of the list that has no error, and reports each (in list order). A rule may
 * point at trigger types and actions of any pack of the list or of the store; one that points at
 * nothing is an error of its pack, which is then not registered (nor are packs whose rules or
 * dependencies relied on it). Dependencies must be loaded or registered in a version their range
 * allows; packs of a dependency cycle are all refused. Packs are written dependencies first, else in
 * list order. Store failures are thrown, not reported per pack.
 */
export async function registerPacks(store: Store, loaded: LoadedPack[], options: Date | RegisterOptions = {}): Promise<PackRegistration[]> {
  const { now = new Date(), reflexVersion = REFLEX_VERSION, config } = options instanceof Date ? { now: options } : options;
  const candidates: Candidate[] = loaded.map((l) => ({ loaded: l, name: l.manifest?.name ?? null, errors: [...l.errors] }));
  if (config !== undefined) {
    for (const c of candidates) {
      if (c.name === null || c.loaded.configSchema === undefined) continue;
      const file = await loadPackConfigFile(config.dir, c.name, c.loaded.configSchema);
      c.errors.push(...file.errors);
      if (file.file !== null && file.values !== null) c.config = { file: file.file, values: file.values };
    }
  }
  settle(candidates, await storeView(store), reflexVersion);
  const valid = candidates.filter((c): c is Candidate & { name: string } => c.errors.length === 0 && c.name !== null);
  const written = new Map<Candidate, RegisterResult>();
  for (const c of dependencyOrder(valid, (v) => v.name, (v) => Object.keys(v.loaded.manifest?.dependencies ?? {}))) {
    const values = c.config === undefined || config === undefined ? undefined : { ...c.config, sealing: config.sealing };
    written.set(c, await write(store, c.loaded, c.name, now, values));
  }
  return candidates.map((c): PackRegistration => {
    const result = written.get(c);
    return result === undefined ? { dir: c.loaded.dir, pack: c.name, ok: false, errors: c.errors } : { dir: c.loaded.dir, pack: c.name, ok: true, result };
  });
}

/**
 * Registers one pack: upserts it with its trigger types, actions and rules (`source: 'pack'`;
 * a rule keeps its `createdAt`), then deletes what the pack no longer has. Rules created through
 * the API are left alone. A pack with any error is refused with a ValidationError whose details
 * name each problem as `file:line field`; nothing is written then.
 */
export async function registerPack(store: Store, loaded: LoadedPack, options: Date | RegisterOptions = {}): Promise<RegisterResult> {
  const [registration] = await registerPacks(store, [loaded], options);
  if (registration === undefined) throw new Error('unreachable: one pack in, one result out');
  if (!registration.ok) throw packValidationError({ dir: loaded.dir, name: registration.pack }, registration.errors);
  return registration.result;
}

/**
 * Removes a pack with its trigger types, actions, pack-sourced rules (API-created rules stay) and
 * configuration values. NotFoundError when there was nothing of the pack to remove. It does not
 * look at other packs: see `dependentsOf` before calling it.
 */
export async function unregisterPack(store: Store, name: string): Promise<UnregisterResult> {
  const removed = {
    rules: await store.rules.deleteByPack(name, 'pack'),
    actions: await store.actions.deleteByPack(name),
    triggerTypes: await store.triggerTypes.deleteByPack(name),
  };
  await store.keys.delete(PACK_CONFIG_SCOPE, name);
  const deleted = await store.packs.delete(name);
  if (!deleted && removed.rules + removed.actions + removed.triggerTypes === 0) throw new NotFoundError('pack', name);
  return { pack: name, removed };
}

/** The registered packs whose `dependencies` name `name`, by name. */
export async function dependentsOf(store: Store, name: string): Promise<string[]> {
  const packs = await store.packs.list();
  return packs.filter((p) => p.name !== name && Object.hasOwn(p.dependencies ?? {}, name)).map((p) => p.name).sort();
}
