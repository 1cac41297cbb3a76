/**
 * Request bodies as JSON, refusing what could hurt later: nesting deeper than MAX_JSON_DEPTH (a
 * deep value overflows the stack of whatever walks it next, JSON.stringify included) and keys that
 * poison prototypes (`__proto__`, `constructor.prototype`). The depth is measured on the text,
 * before parsing. Error messages never quote the body (it may hold a secret).
 */
import { ValidationError, type JsonValue } from '@reflex/model';

export const MAX_JSON_DEPTH = 64;

const SUSPECT = /"(?:_|\\u005[Ff])(?:_|\\u005[Ff])(?:p|\\u0070)(?:r|\\u0072)(?:o|\\u006[Ff])(?:t|\\u0074)(?:o|\\u006[Ff])(?:_|\\u005[Ff])(?:_|\\u005[Ff])"|"(?:c|\\u0063)(?:o|\\u006[Ff])(?:n|\\u006[Ee])(?:s|\\u0073)(?:t|\\u0074)(?:r|\\u0072)(?:u|\\u0075)(?:c|\\u0063)(?:t|\\u0074)(?:o|\\u006[Ff])(?:r|\\u0072)"/;

function invalid(message: string, field: string): ValidationError {
  return new ValidationError(`${field} ${message}`, [{ field, message }]);
}

/** Deepest nesting of arrays and objects in JSON text (strings skipped); stops counting past `limit`. */
export function jsonDepth(text: string, limit = MAX_JSON_DEPTH): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash: skip the escaped character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) {
      depth++;
      if (depth > deepest) deepest = depth;
      if (deepest > limit) return deepest;
    } else if (c === 125 || c === 93) depth--;
  }
  return deepest;
}

/** Throws when a parsed value holds an own `__proto__` key, or a `constructor` object with `prototype`. */
export function rejectPoisonedKeys(value: unknown, field = 'body'): void {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const node = stack.pop();
    if (node === null || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      for (const item of node) stack.push(item);
      continue;
    }
    if (Object.hasOwn(node, '__proto__')) throw invalid("has a '__proto__' key, which is not allowed", field);
    const ctor = Object.hasOwn(node, 'constructor') ? (node as Record<string, unknown>)['constructor'] : undefined;
    if (ctor !== null && typeof ctor === 'object' && Object.hasOwn(ctor, 'prototype')) {
      throw invalid("has a 'constructor.prototype' key, which is not allowed", field);
    }
    for (const child of Object.values(node)) stack.push(child);
  }
}

export function parseJsonBody(text: string, field = 'body'): JsonValue {
  if (jsonDepth(text) > MAX_JSON_DEPTH) throw invalid(`is nested deeper than ${MAX_JSON_DEPTH} levels`, field);
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    // V8's message quotes the text around the error; the body may hold a secret, so say less.
    throw invalid('is not valid JSON', field);
  }
  if (SUSPECT.test(text)) rejectPoisonedKeys(value, field);
  return value;
}

/** Form keys that a bracket-nesting parser downstream could turn into prototype writes. */
const POISONED_FORM_KEY = /__proto__|^constructor(\[|$)|^prototype(\[|$)/;

/** A form body (`a=1&b=2`) as an object (keys are kept flat); prototype-related keys are refused. */
export function parseFormBody(text: string, field = 'body'): Record<string, string> {
  const value = Object.fromEntries(new URLSearchParams(text));
  for (const key of Object.keys(value)) {
    if (POISONED_FORM_KEY.test(key)) throw invalid(`has a '${key.slice(0, 40)}' key, which is not allowed`, field);
  }
  return value;
}
