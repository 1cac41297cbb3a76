/**
 * What a pack needs from its surroundings: `dependencies` (pack name → semver range of its version)
 * and `reflex_version` (the lowest Reflex it runs on), checked with `semver`; and dependency cycles,
 * which no order of registration can satisfy. Pure: callers say what is loaded and registered.
 */
import { lte, satisfies, valid, validRange } from 'semver';
import type { PackManifest } from '@reflex/model';
import type { ItemSource, PackFileError } from './types.ts';
import { fileError } from './yaml-source.ts';

/**
 * The version of Reflex that packs' `reflex_version` is compared with by default: the root
 * package.json's (a test keeps the two equal). Registration takes another through its options.
 */
export const REFLEX_VERSION = '0.1.0';

/** A pack a dependency may be satisfied by, and whether that is the registered copy or one loaded in the batch. */
export interface AvailablePack {
  version: string;
  registered: boolean;
}

/**
 * What a manifest gets wrong on its own, found when the pack loads: a range `semver` cannot read,
 * a `reflex_version` that is not a version.
 */
export function manifestVersionErrors(manifest: PackManifest, source: ItemSource): PackFileError[] {
  const errors: PackFileError[] = [];
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    if (validRange(range) === null) {
      errors.push(fileError(source, `dependencies.${name}`, `'${range}' is not a semver range (write e.g. ^1.2.0, ~1.2, >=1.0.0 <2.0.0 or *)`));
    }
  }
  if (manifest.reflexVersion !== undefined && valid(manifest.reflexVersion) === null) {
    errors.push(fileError(source, 'reflex_version', `'${manifest.reflexVersion}' is not a semver version (write e.g. 0.1.0)`));
  }
  return errors;
}

/**
 * What the manifest needs and does not get: each dependency must be available (loaded in the
 * batch, or registered) in a version its range allows, and Reflex must be at least `reflex_version`.
 */
export function dependencyErrors(
  manifest: PackManifest,
  source: ItemSource,
  available: ReadonlyMap<string, AvailablePack>,
  reflexVersion: string,
): PackFileError[] {
  const errors: PackFileError[] = [];
  for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
    const field = `dependencies.${name}`;
    const found = available.get(name);
    if (found === undefined) {
      errors.push(fileError(source, field, `pack '${name}' is neither loaded nor registered`));
    } else if (validRange(range) !== null && !satisfies(found.version, range)) {
      const where = found.registered ? 'registered' : 'loaded';
      errors.push(fileError(source, field, `needs ${name} ${range}, but ${name} ${found.version} is ${where}`));
    }
  }
  const wanted = manifest.reflexVersion;
  if (wanted !== undefined && valid(wanted) !== null && valid(reflexVersion) !== null && !lte(wanted, reflexVersion)) {
    errors.push(fileError(source, 'reflex_version', `needs Reflex ${wanted} or later, but this is Reflex ${reflexVersion}`));
  }
  return errors;
}

/**
 * Every pack that is part of a dependency cycle, with one shortest cycle through it, starting and
 * ending with it: `a → b → a` is `['a', 'b', 'a']`, a pack that depends on itself is `['a', 'a']`.
 * `graph` maps a pack to the packs it depends on; names it does not hold have no dependencies.
 */
export function dependencyCycles(graph: ReadonlyMap<string, readonly string[]>): Map<string, string[]> {
  const cycles = new Map<string, string[]>();
  for (const component of stronglyConnected(graph)) {
    const members = new Set(component);
    for (const start of component) {
      const cycle = shortestCycle(start, graph, members);
      if (cycle !== undefined) cycles.set(start, cycle);
    }
  }
  return cycles;
}

/** Breadth-first from `start` back to itself, staying inside `members`. */
function shortestCycle(start: string, graph: ReadonlyMap<string, readonly string[]>, members: ReadonlySet<string>): string[] | undefined {
  const previous = new Map<string, string>();
  const queue: string[] = [start];
  for (let i = 0; i < queue.length; i++) {
    const node = queue[i] as string;
    for (const next of graph.get(node) ?? []) {
      if (!members.has(next)) continue;
      if (next === start) {
        const path = [node];
        for (let at = node; at !== start; ) {
          at = previous.get(at) as string;
          path.unshift(at);
        }
        return [...path, start];
      }
      if (previous.has(next)) continue;
      previous.set(next, node);
      queue.push(next);
    }
  }
  return undefined;
}

/** Tarjan's strongly connected components (iterative), in discovery order. */
function stronglyConnected(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const components: string[][] = [];
  let counter = 0;
  for (const root of graph.keys()) {
    if (index.has(root)) continue;
    const work: Array<{ node: string; next: number }> = [{ node: root, next: 0 }];
    index.set(root, counter);
    low.set(root, counter++);
    stack.push(root);
    onStack.add(root);
    while (work.length > 0) {
      const frame = work[work.length - 1] as { node: string; next: number };
      const edges = graph.get(frame.node) ?? [];
      if (frame.next < edges.length) {
        const to = edges[frame.next++] as string;
        if (!index.has(to)) {
          index.set(to, counter);
          low.set(to, counter++);
          stack.push(to);
          onStack.add(to);
          work.push({ node: to, next: 0 });
        } else if (onStack.has(to)) {
          low.set(frame.node, Math.min(low.get(frame.node) as number, index.get(to) as number));
        }
        continue;
      }
      work.pop();
      const parent = work[work.length - 1];
      if (parent !== undefined) low.set(parent.node, Math.min(low.get(parent.node) as number, low.get(frame.node) as number));
      if (low.get(frame.node) === index.get(frame.node)) {
        const component: string[] = [];
        for (;;) {
          const member = stack.pop() as string;
          onStack.delete(member);
          component.push(member);
          if (member === frame.node) break;
        }
        components.push(component.reverse());
      }
    }
  }
  return components;
}

/** `a → b → a`: a cycle as people read it. */
export function cycleText(cycle: readonly string[]): string {
  return `dependency cycle: ${cycle.join(' → ')}`;
}

/**
 * `items` in the order given, except that each comes after the items it depends on (which move up
 * to just before their first dependant). Cycles (which registration refuses first) do not loop.
 */
export function dependencyOrder<T>(items: readonly T[], nameOf: (item: T) => string, dependenciesOf: (item: T) => readonly string[]): T[] {
  const byName = new Map<string, T>();
  for (const item of items) if (!byName.has(nameOf(item))) byName.set(nameOf(item), item);
  const seen = new Set<T>();
  const ordered: T[] = [];
  const visit = (item: T): void => {
    if (seen.has(item)) return;
    seen.add(item);
    for (const name of dependenciesOf(item)) {
      const dependency = byName.get(name);
      if (dependency !== undefined) visit(dependency);
    }
    ordered.push(item);
  };
  for (const item of items) visit(item);
  return ordered;
}
