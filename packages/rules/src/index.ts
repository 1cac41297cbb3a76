/**
 * @reflex/rules: pure rule matching. Compile rules once (criteria in JSON-logic with operators
 * for operations people, Liquid parameter templates that keep types), index them by trigger and
 * equality predicates, match events. No I/O.
 */
export { compileRule, type CompileOptions, type CompiledRule } from './compile.ts';
export {
  compileCriteria,
  criteriaProblems,
  validateCriteria,
  CRITERIA_LIMITS,
  KNOWN_OPERATIONS,
  type CompiledCriteria,
  type CriteriaResult,
  type EvaluateOptions,
} from './criteria.ts';
export type { Clock } from './clock.ts';
export { CUSTOM_OPERATIONS, parseTimestamp } from './operators.ts';
export { globToRe2, MAX_PATTERN_LENGTH } from './patterns.ts';
export { renderTemplateValue, TEMPLATE_LIMITS, type KvReferences } from './templates.ts';
export { explainCriteria, type CriterionOutcome } from './explain.ts';
export { equalityPredicates, type EqualityPredicate } from './equality.ts';
export { canonicalJson, triggerParametersMatch } from './trigger.ts';
export { RuleSet, type MatchResult } from './rule-set.ts';
export {
  compileNoise,
  labelName,
  noiseProblems,
  type CompiledGroup,
  type CompiledNoise,
  type CompiledThrottle,
} from './noise/spec.ts';
export {
  identityOf,
  noiseKey,
  snapshotOf,
  type CurrentState,
  type Identity,
  type NoiseOutcome,
  type NoiseTemplateContext,
  type PendingFiring,
  type StateChange,
  type StateWrite,
} from './noise/state.ts';
export { claimOnceAfter, finishOnceAfter, foldOnceAfter, foldOnceWithin, foldThreshold, MAX_WINDOW_EVENTS } from './noise/throttle.ts';
export { claimGroup, finishGroup, foldGroup, isResolution, MAX_GROUP_ALERTS, type GroupSnapshot } from './noise/group.ts';
export { compileSilence, matcherProblems, silenceFor, type CompiledSilence, type SilenceContext } from './noise/silences.ts';
export {
  activeSource,
  compileInhibition,
  foldInhibitionSource,
  inhibitionOwner,
  inhibitionProblems,
  inhibitionRole,
  type CompiledInhibition,
  type InhibitionRole,
} from './noise/inhibitions.ts';
export { backtestRule, type BacktestInput } from './backtest.ts';
