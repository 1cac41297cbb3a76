/**
 * Keeping credentials out of error messages. A chat webhook URL *is* a credential (whoever holds
 * it can post), and so is a bot token. Everything that leaves an adapter as text passes through
 * a Redactor built from its target; known credential shapes are masked even when not configured.
 */
import type { TargetConfig } from './targets.ts';

export const MASK = '***';

/** `https://hooks.slack.com/services/T/B/x` → `https://hooks.slack.com/***`: where, never the secret part. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}/${MASK}`;
  } catch {
    return MASK;
  }
}

/** The strings of `target` that must never appear in a message: URL (and its path and query values), token, secret, header values. */
export function secretsOf(target: TargetConfig): string[] {
  const secrets: string[] = [];
  const add = (value: string | undefined): void => {
    if (value !== undefined && value.length >= 4) secrets.push(value);
  };
  if ('url' in target) {
    add(target.url);
    try {
      const parsed = new URL(target.url);
      if (parsed.pathname.length > 1) add(parsed.pathname + parsed.search);
      for (const segment of parsed.pathname.split('/')) if (segment.length >= 8) add(decodeURIComponent(segment));
      for (const value of parsed.searchParams.values()) if (value.length >= 8) add(value);
    } catch {
      // not a URL: the whole string is already listed
    }
  }
  if ('token' in target) add(target.token);
  if ('secret' in target) add(target.secret);
  if ('headers' in target && target.headers !== undefined) for (const value of Object.values(target.headers)) add(value);
  return secrets;
}

/** Credential shapes masked wherever they appear, configured or not. */
const KNOWN_SHAPES: Array<[RegExp, string]> = [
  [/\bxox[a-z]-[A-Za-z0-9-]+/g, `xox?-${MASK}`],
  [/(hooks\.slack\.com\/services\/)[^\s"'<>]+/g, `$1${MASK}`],
  [/(\/api\/webhooks\/\d+\/)[^\s"'<>/?]+/g, `$1${MASK}`],
  [/([?&]sig=)[^&\s"'<>]+/g, `$1${MASK}`],
  [/(Bearer\s+)[^\s"'<>]+/gi, `$1${MASK}`],
];

export type Redactor = (text: string) => string;

/** Builds a function that replaces every given secret (longest first) and every known credential shape by `***`. */
export function redactor(secrets: readonly string[]): Redactor {
  const ordered = [...new Set(secrets)].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
  return (text: string): string => {
    let out = text;
    for (const secret of ordered) out = out.split(secret).join(MASK);
    for (const [pattern, replacement] of KNOWN_SHAPES) out = out.replace(pattern, replacement);
    return out;
  };
}

export function redactorFor(target: TargetConfig): Redactor {
  return redactor(secretsOf(target));
}

/** A copy of `target` fit for API output and logs: credentials masked (a URL keeps its host). */
export function redactTarget(target: TargetConfig): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...target };
  if ('url' in target) copy['url'] = maskUrl(target.url);
  for (const key of ['token', 'secret', 'headers']) if (copy[key] !== undefined) copy[key] = MASK;
  return copy;
}
