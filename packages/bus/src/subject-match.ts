/**
 * NATS subject rules, shared by both adapters. A subject is dot-separated tokens; in a pattern a
 * `*` token matches exactly one token and a final `>` matches one or more trailing tokens.
 * Pure functions, no I/O.
 */

const BAD_TOKEN_CHARS = /[\s\0]/;

/** Whether `subject` is well formed; with `wildcards`, `*` tokens and a final `>` are allowed. */
export function isValidSubject(subject: string, options: { wildcards?: boolean } = {}): boolean {
  if (subject === '') return false;
  const tokens = subject.split('.');
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as string;
    if (token === '' || BAD_TOKEN_CHARS.test(token)) return false;
    if (token === '*' || token === '>') {
      if (options.wildcards !== true) return false;
      if (token === '>' && i !== tokens.length - 1) return false;
    } else if (token.includes('*') || token.includes('>')) {
      return false;
    }
  }
  return true;
}

/** Whether the concrete `subject` matches `pattern`. */
export function subjectMatches(pattern: string, subject: string): boolean {
  return compileSubjectMatcher(pattern)(subject);
}

export type SubjectMatcher = (subject: string) => boolean;

/**
 * Compiles a pattern once so matching a subject costs one split (none for a literal pattern).
 * Use it on hot paths: routing a publish, a consumer's filter.
 */
export function compileSubjectMatcher(pattern: string): SubjectMatcher {
  if (!pattern.includes('*') && !pattern.includes('>')) return (subject) => subject === pattern;
  const tokens = pattern.split('.');
  const tail = tokens[tokens.length - 1] === '>';
  const fixed = tail ? tokens.length - 1 : tokens.length;
  return (subject) => {
    const parts = subject.split('.');
    if (tail ? parts.length <= fixed : parts.length !== fixed) return false;
    for (let i = 0; i < fixed; i++) {
      const want = tokens[i] as string;
      if (want !== '*' && want !== parts[i]) return false;
    }
    return true;
  };
}

/** Whether some concrete subject matches both patterns (NATS refuses overlapping streams). */
export function subjectsOverlap(a: string, b: string): boolean {
  const ta = a.split('.');
  const tb = b.split('.');
  const n = Math.min(ta.length, tb.length);
  for (let i = 0; i < n; i++) {
    const x = ta[i] as string;
    const y = tb[i] as string;
    if (x === '>' || y === '>') return true;
    if (x !== '*' && y !== '*' && x !== y) return false;
  }
  return ta.length === tb.length;
}

/** Whether every subject that matches `filter` also matches `pattern`. */
export function subjectIsSubsetOf(filter: string, pattern: string): boolean {
  const tf = filter.split('.');
  const tp = pattern.split('.');
  for (let i = 0; i < tp.length; i++) {
    const p = tp[i] as string;
    const f = tf[i];
    if (p === '>') return f !== undefined;
    if (f === undefined || f === '>') return false;
    if (p === '*') continue;
    if (f === '*' || f !== p) return false;
  }
  return tf.length === tp.length;
}
