/**
 * Silences, evaluated. A silence's matchers read `{ payload, event, rule }` (the rule being
 * decided: `rule.ref`, `rule.pack`, `rule.name`), so a silence can mute one rule or all of them.
 * Values are read as text (a missing one as ""), like Alertmanager's labels.
 */
import { ValidationError, type ErrorDetail, type EventContext, type Matcher, type Silence } from '@reflex/model';
import { forbiddenSegment, resolveVar } from '../paths.ts';
import { compilePattern, patternProblem } from '../patterns.ts';
import { labelText } from './state.ts';

/** What silence matchers read: the event context and the rule being decided. */
export interface SilenceContext extends EventContext {
  rule: { ref: string; pack: string; name: string };
}

/** A whole-value match, as Alertmanager's regex matchers are. */
const anchored = (value: string): string => `^(?:${value})$`;

/** Every problem of a silence's matchers, fields rooted at `root`. */
export function matcherProblems(matchers: readonly Matcher[], root = 'matchers'): ErrorDetail[] {
  const details: ErrorDetail[] = [];
  matchers.forEach((m, i) => {
    const bad = forbiddenSegment(m.path);
    if (bad !== undefined) details.push({ field: `${root}.${i}.path`, message: `path '${m.path}' touches '${bad}', which is not allowed` });
    if (m.op === '=~' || m.op === '!~') {
      const problem = patternProblem('regex', anchored(m.value));
      if (problem !== undefined) details.push({ field: `${root}.${i}.value`, message: problem });
    }
  });
  return details;
}

export interface CompiledSilence {
  readonly silence: Silence;
  readonly startsMs: number;
  readonly endsMs: number;
  /** All matchers hold for this event and rule. */
  matches(ctx: SilenceContext): boolean;
}

export function compileSilence(silence: Silence): CompiledSilence {
  const details = matcherProblems(silence.matchers);
  if (details.length > 0) throw new ValidationError(`silence '${silence.id}' is invalid: ${details[0]!.field} ${details[0]!.message}`, details);
  const tests = silence.matchers.map((m) => {
    const read = (ctx: SilenceContext): string => labelText(resolveVar(ctx, m.path));
    switch (m.op) {
      case '=':
        return (ctx: SilenceContext) => read(ctx) === m.value;
      case '!=':
        return (ctx: SilenceContext) => read(ctx) !== m.value;
      case '=~': {
        const re = compilePattern('regex', anchored(m.value));
        return (ctx: SilenceContext) => re.test(read(ctx));
      }
      case '!~': {
        const re = compilePattern('regex', anchored(m.value));
        return (ctx: SilenceContext) => !re.test(read(ctx));
      }
    }
  });
  return {
    silence,
    startsMs: Date.parse(silence.startsAt),
    endsMs: Date.parse(silence.endsAt),
    matches: (ctx) => tests.every((test) => test(ctx)),
  };
}

/** The first silence active at `nowMs` whose matchers all hold, if any. */
export function silenceFor(silences: readonly CompiledSilence[], ctx: SilenceContext, nowMs: number): Silence | undefined {
  for (const s of silences) {
    if (s.startsMs <= nowMs && nowMs < s.endsMs && s.matches(ctx)) return s.silence;
  }
  return undefined;
}
