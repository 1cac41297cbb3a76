/**
 * Which packs `reflex pack test` registers next to the pack under test. It needs the packs that
 * pack depends on (`dependencies`) and the packs its rules point into (`core.webhook`,
 * `chat.post`), and those packs' own needs; core and chat are always there. Each is looked up by
 * name, the first found winning, in:
 *
 *   1. the folder holding the pack under test (its sibling packs),
 *   2. the packs path (REFLEX_PACKS_PATH, default ./packs),
 *   3. the packs that ship with Reflex (its own packs/ folder: core, chat, alerting, …).
 *
 * Only what is needed is registered, so a broken pack elsewhere on the path does not matter.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { discoverPacks, type LoadedPack } from '@reflex/packs';

/** The packs that ship with Reflex (core, chat, …): the repository's packs/ folder. */
export const BUILTIN_PACKS_DIR = fileURLToPath(new URL('../../../../packs', import.meta.url));

/** Always registered: the trigger types and actions every Reflex has. */
const ALWAYS = ['core', 'chat'];

function prefix(ref: string): string {
  const dot = ref.indexOf('.');
  return dot < 0 ? ref : ref.slice(0, dot);
}

/** The packs `pack` needs by name: its dependencies and the packs its rules point into. */
export function packNeeds(pack: LoadedPack): string[] {
  const names = new Set<string>(Object.keys(pack.manifest?.dependencies ?? {}));
  for (const rule of pack.rules) {
    names.add(prefix(rule.trigger.type));
    names.add(prefix(rule.action.ref));
  }
  return [...names];
}

export class PackLibrary {
  readonly #bases: string[];
  readonly #loaded = new Map<string, Promise<LoadedPack[]>>();

  /** `bases`: the packs path then the built-in packs, in lookup order (after the pack's siblings). */
  constructor(bases: readonly string[]) {
    this.#bases = bases.map((b) => path.resolve(b));
  }

  #packsIn(base: string): Promise<LoadedPack[]> {
    let found = this.#loaded.get(base);
    if (found === undefined) {
      found = discoverPacks([base]);
      this.#loaded.set(base, found);
    }
    return found;
  }

  async #find(name: string, bases: readonly string[]): Promise<LoadedPack | undefined> {
    for (const base of bases) {
      const pack = (await this.#packsIn(base)).find((p) => p.manifest?.name === name);
      if (pack !== undefined) return pack;
    }
    return undefined;
  }

  /**
   * What to register to test `pack`: the packs it needs, theirs, and so on (core and chat always),
   * then `pack` itself. Names found nowhere are left out: registration then says what is missing.
   */
  async closure(pack: LoadedPack): Promise<LoadedPack[]> {
    const own = pack.manifest?.name;
    const bases = [path.dirname(pack.dir), ...this.#bases];
    const chosen = new Map<string, LoadedPack>();
    const queue = [...ALWAYS, ...packNeeds(pack)];
    for (let name = queue.shift(); name !== undefined; name = queue.shift()) {
      if (name === own || chosen.has(name)) continue;
      const found = await this.#find(name, bases);
      if (found === undefined) continue;
      chosen.set(name, found);
      queue.push(...packNeeds(found));
    }
    return [...chosen.values(), pack];
  }
}
