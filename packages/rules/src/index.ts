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
export { renderTemplateValue, TEMPLATE_LIMITS } from './templates.ts';
export { equalityPredicates, type EqualityPredicate } from './equality.ts';
export { canonicalJson, triggerParametersMatch } from './trigger.ts';
export { RuleSet, type MatchResult } from './rule-set.ts';
