import path from 'node:path';
import { makeRef, NotFoundError, ValidationError, type Action, type Pack, type Rule, type TriggerType } from '@reflex/model';
import type { Store } from '@reflex/store';
import { markDuplicateNames } from './discover.ts';
import { ruleReferenceErrors, type Catalog } from './references.ts';
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
}

interface StoreView {
  packs: Set<string>;
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
  return { packs: new Set(packs.map((p) => p.name)), triggerTypes, actions, apiRules };
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

function crossPackErrors(candidate: Candidate, catalog: Catalog, knownPacks: Set<string>, view: StoreView): PackFileError[] {
  const { loaded } = candidate;
  const errors: PackFileError[] = [];
  const manifestSource = loaded.sources.manifest;
  for (const dependency of Object.keys(loaded.manifest?.dependencies ?? {})) {
    if (knownPacks.has(dependency) || manifestSource === null) continue;
    errors.push(fileError(manifestSource, `dependencies.${dependency}`, `pack '${dependency}' is neither loaded nor registered`));
  }
  loaded.rules.forEach((rule, i) => {
    const source = loaded.sources.rules[i];
    if (source === undefined) return;
    errors.push(...ruleReferenceErrors(rule, source, catalog));
    const ref = makeRef(rule.pack, rule.name);
    if (view.apiRules.some((r) => r.ref === ref)) {
      errors.push(fileError(source, 'name', `rule '${ref}' already exists and was created through the API; rename one of them`));
    }
  });
  return errors;
}

/**
 * Checks what a batch of packs points at (rules → trigger types and actions, dependencies)
 * against the batch itself plus the store, dropping failing packs until the rest is consistent.
 */
function settle(candidates: Candidate[], view: StoreView): void {
  const byPack = new Map(candidates.map((c) => [c.loaded, c]));
  markDuplicateNames(
    candidates.map((c) => c.loaded),
    (pack) => byPack.get(pack)?.errors ?? [],
  );
  let valid = candidates.filter((c) => c.errors.length === 0 && c.name !== null);
  for (;;) {
    const catalog = catalogFor(valid, view);
    const knownPacks = new Set([...view.packs, ...valid.map((c) => c.name ?? '')]);
    let dropped = false;
    for (const c of valid) {
      const errors = crossPackErrors(c, catalog, knownPacks, view);
      if (errors.length > 0) {
        c.errors.push(...errors);
        dropped = true;
      }
    }
    if (!dropped) return;
    valid = valid.filter((c) => c.errors.length === 0);
  }
}

async function write(store: Store, loaded: LoadedPack, manifestName: string, now: Date): Promise<RegisterResult> {
  const manifest = loaded.manifest;
  if (manifest === null) throw new Error('unreachable: a pack without a manifest is never written');
  const at = now.toISOString();
  const pack: Pack = { ...manifest, path: loaded.dir, registeredAt: at };
  await store.packs.upsert(pack);
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
  };
}

/**
 * Registers every pack of the list that has no error, and reports each. A rule may point at
 * trigger types and actions of any pack of the list or of the store; one that points at nothing
 * is an error of its pack, which is then not registered (nor are packs whose rules relied on it).
 * Packs are written in list order. Store failures are thrown, not reported per pack.
 */
export async function registerPacks(store: Store, loaded: LoadedPack[], now: Date = new Date()): Promise<PackRegistration[]> {
  const candidates: Candidate[] = loaded.map((l) => ({ loaded: l, name: l.manifest?.name ?? null, errors: [...l.errors] }));
  settle(candidates, await storeView(store));
  const results: PackRegistration[] = [];
  for (const c of candidates) {
    if (c.errors.length > 0 || c.name === null) {
      results.push({ dir: c.loaded.dir, pack: c.name, ok: false, errors: c.errors });
    } else {
      results.push({ dir: c.loaded.dir, pack: c.name, ok: true, result: await write(store, c.loaded, c.name, now) });
    }
  }
  return results;
}

/**
 * Registers one pack: upserts it with its trigger types, actions and rules (`source: 'pack'`;
 * a rule keeps its `createdAt`), then deletes what the pack no longer has. Rules created through
 * the API are left alone. A pack with any error is refused with a ValidationError whose details
 * name each problem as `file:line field`; nothing is written then.
 */
export async function registerPack(store: Store, loaded: LoadedPack, now: Date = new Date()): Promise<RegisterResult> {
  const [registration] = await registerPacks(store, [loaded], now);
  if (registration === undefined) throw new Error('unreachable: one pack in, one result out');
  if (!registration.ok) throw packValidationError({ dir: loaded.dir, name: registration.pack }, registration.errors);
  return registration.result;
}

/**
 * Removes a pack with its trigger types, actions and pack-sourced rules (API-created rules stay).
 * NotFoundError when there was nothing of the pack to remove.
 */
export async function unregisterPack(store: Store, name: string): Promise<UnregisterResult> {
  const removed = {
    rules: await store.rules.deleteByPack(name, 'pack'),
    actions: await store.actions.deleteByPack(name),
    triggerTypes: await store.triggerTypes.deleteByPack(name),
  };
  const deleted = await store.packs.delete(name);
  if (!deleted && removed.rules + removed.actions + removed.triggerTypes === 0) throw new NotFoundError('pack', name);
  return { pack: name, removed };
}
