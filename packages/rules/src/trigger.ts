/** Trigger parameters: which trigger instance (a webhook's `url`) a rule listens to. */
import type { JsonObject, JsonValue } from '@reflex/model';

/** JSON with object keys sorted: equal JSON values give equal strings. */
export function canonicalJson(value: JsonValue | undefined): string {
  if (value === undefined) return 'null';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item)).join(',')}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key])}`).join(',')}}`;
}

function hasOwn(object: object, key: string): boolean {
  return Object.prototype.hasOwnProperty.call(object, key);
}

/**
 * True when every key of the rule's trigger parameters is on the event's with a deep-equal value.
 * A rule without trigger parameters (or with `{}`) listens to every instance of its trigger type.
 */
export function triggerParametersMatch(rule: JsonObject | undefined, event: JsonObject | undefined): boolean {
  if (rule === undefined) return true;
  for (const key of Object.keys(rule)) {
    if (event === undefined || !hasOwn(event, key)) return false;
    if (canonicalJson(rule[key]) !== canonicalJson(event[key])) return false;
  }
  return true;
}

/**
 * The rule's parameters projected as the index keys them: the sorted key names, and the canonical
 * JSON of the parameters. An event meets the rule when its parameters, projected on the same
 * names, give the same canonical JSON.
 */
export function parameterKey(parameters: JsonObject | undefined): { names: string[]; key: string } {
  const names = parameters === undefined ? [] : Object.keys(parameters).sort();
  return { names, key: canonicalJson(parameters ?? {}) };
}

/** The canonical JSON of the event's parameters on `names`, or undefined when one is absent. */
export function projectParameters(event: JsonObject | undefined, names: readonly string[]): string | undefined {
  if (names.length === 0) return '{}';
  if (event === undefined) return undefined;
  const parts: string[] = [];
  for (const name of names) {
    if (!hasOwn(event, name)) return undefined;
    parts.push(`${JSON.stringify(name)}:${canonicalJson(event[name])}`);
  }
  return `{${parts.join(',')}}`;
}
