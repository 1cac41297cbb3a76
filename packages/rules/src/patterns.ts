/**
 * Regular expressions and shell wildcards for criteria, both run by re2js: linear time in the
 * input whatever the pattern, so a hostile rule or payload cannot stall the engine. Compiled
 * patterns (and the errors of patterns that do not compile) sit in a bounded cache.
 */
import { RE2JS } from 're2js';

export const MAX_PATTERN_LENGTH = 1_000;
const CACHE_SIZE = 1_000;

type Compiled = { ok: true; re: RE2JS } | { ok: false; message: string };

/**
 * A bounded cache with LRU-like eviction in O(1) and no work on a hit: entries live in a current
 * and a previous generation; a hit in the previous one is promoted, and when the current one is
 * full it becomes the previous one (dropping the older generation). At most 2 × max entries.
 */
class GenerationalCache<V> {
  readonly #max: number;
  #current = new Map<string, V>();
  #previous = new Map<string, V>();

  constructor(max: number) {
    this.#max = max;
  }

  get(key: string): V | undefined {
    const hit = this.#current.get(key);
    if (hit !== undefined) return hit;
    const old = this.#previous.get(key);
    if (old !== undefined) this.set(key, old);
    return old;
  }

  set(key: string, value: V): void {
    if (this.#current.size >= this.#max) {
      this.#previous = this.#current;
      this.#current = new Map();
    }
    this.#current.set(key, value);
  }
}

export type PatternKind = 'regex' | 'iregex' | 'glob';

const caches: Record<PatternKind, GenerationalCache<Compiled>> = {
  regex: new GenerationalCache(CACHE_SIZE),
  iregex: new GenerationalCache(CACHE_SIZE),
  glob: new GenerationalCache(CACHE_SIZE),
};

function compileUncached(kind: PatternKind, pattern: string): Compiled {
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return { ok: false, message: `${kind} pattern is ${pattern.length} characters long; the limit is ${MAX_PATTERN_LENGTH}` };
  }
  try {
    switch (kind) {
      case 'regex':
        return { ok: true, re: RE2JS.compile(pattern) };
      case 'iregex':
        return { ok: true, re: RE2JS.compile(pattern, RE2JS.CASE_INSENSITIVE) };
      case 'glob':
        return { ok: true, re: RE2JS.compile(globToRe2(pattern), RE2JS.DOTALL) };
    }
  } catch (err) {
    return { ok: false, message: `${kind} pattern does not compile (RE2 syntax): ${(err as Error).message}` };
  }
}

function compiled(kind: PatternKind, pattern: string): Compiled {
  const cache = caches[kind];
  let entry = cache.get(pattern);
  if (entry === undefined) {
    entry = compileUncached(kind, pattern);
    cache.set(pattern, entry);
  }
  return entry;
}

/** Why `pattern` cannot be used, or undefined when it compiles. */
export function patternProblem(kind: PatternKind, pattern: string): string | undefined {
  const entry = compiled(kind, pattern);
  return entry.ok ? undefined : entry.message;
}

/** The compiled pattern; throws when it does not compile or is too long. */
export function compilePattern(kind: PatternKind, pattern: string): RE2JS {
  const entry = compiled(kind, pattern);
  if (!entry.ok) throw new Error(entry.message);
  return entry.re;
}

/** One character as an RE2 literal, inside or outside a class. */
function escapeRe2(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (/^[A-Za-z0-9]$/.test(ch) || code > 0x7f) return ch;
  if (/^[!-/:-@[-`{-~]$/.test(ch)) return `\\${ch}`;
  return `\\x{${code.toString(16)}}`;
}

/** Matches nothing: RE2 has no `(?!)`, but a class of no code point works. */
const NOTHING = '[^\\x00-\\x{10FFFF}]';

/**
 * Translates a shell wildcard with Python `fnmatch` semantics (StackStorm's `matchwildcard`) into
 * an anchored RE2 pattern: `*` any run of characters (including `/` and newlines), `?` one
 * character, `[seq]` / `[!seq]` a set with `a-z` ranges, and an unclosed `[` is a literal.
 * Every other character is literal; there is no backslash escape (write `[*]` for a star).
 */
export function globToRe2(glob: string): string {
  const chars = Array.from(glob);
  const n = chars.length;
  let out = '';
  let i = 0;
  while (i < n) {
    const c = chars[i]!;
    i += 1;
    if (c === '*') {
      while (i < n && chars[i] === '*') i += 1;
      out += '.*';
    } else if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i;
      if (j < n && chars[j] === '!') j += 1;
      if (j < n && chars[j] === ']') j += 1;
      while (j < n && chars[j] !== ']') j += 1;
      if (j >= n) {
        out += '\\[';
        continue;
      }
      let body = chars.slice(i, j);
      i = j + 1;
      let negate = false;
      if (body[0] === '!') {
        negate = true;
        body = body.slice(1);
      }
      let cls = '';
      for (let k = 0; k < body.length; k += 1) {
        const lo = body[k]!;
        const dash = body[k + 1];
        const hi = body[k + 2];
        if (dash === '-' && hi !== undefined) {
          // A reversed range (z-a) matches nothing, as in Python.
          if (lo.codePointAt(0)! <= hi.codePointAt(0)!) cls += `${escapeRe2(lo)}-${escapeRe2(hi)}`;
          k += 2;
        } else {
          cls += escapeRe2(lo);
        }
      }
      if (cls === '') out += negate ? '.' : NOTHING;
      else out += negate ? `[^${cls}]` : `[${cls}]`;
    } else {
      out += escapeRe2(c);
    }
  }
  return `^${out}$`;
}
