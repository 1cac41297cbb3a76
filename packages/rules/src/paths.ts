/**
 * Dotted paths as json-logic's `var` reads them (`payload.body.host`, `payload.items.0`), and the
 * segments no path may touch: walking into them reaches JavaScript's object machinery, not data.
 */

export const FORBIDDEN_SEGMENTS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

/** The first forbidden segment of a dotted path, or undefined when the path is clean. */
export function forbiddenSegment(path: string | number): string | undefined {
  for (const segment of String(path).split('.')) {
    if (FORBIDDEN_SEGMENTS.has(segment)) return segment;
  }
  return undefined;
}

/**
 * Reads `path` from `data` exactly as json-logic-js's `var` does (same splitting, same descent,
 * `null` when anything on the way is missing), so the index and the evaluator agree on every
 * value. Throws on a forbidden segment: paths computed at run time get the same guard as literals.
 */
export function resolveVar(data: unknown, path: string | number | null | undefined): unknown {
  if (path === undefined || path === null || path === '') return data;
  const segments = String(path).split('.');
  for (const segment of segments) {
    if (FORBIDDEN_SEGMENTS.has(segment)) throw new Error(`path '${String(path)}' uses the forbidden segment '${segment}'`);
  }
  let current: unknown = data;
  for (const segment of segments) {
    if (current === null || current === undefined) return null;
    current = (current as Record<string, unknown>)[segment];
    if (current === undefined) return null;
  }
  return current;
}
