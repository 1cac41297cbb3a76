/**
 * What can be known about a rule's action parameters before any event arrives: every required
 * parameter is given (or has a default), no unknown parameter is given, values without a template
 * already pass their schema, and parameters the action marks `literal: true` (e.g. the script text
 * of a shell command) hold no template at all, so event data can never become code.
 */
import type { Action } from './action.ts';
import type { ErrorDetail } from './errors.ts';
import { ajvDetails, compileUserSchema } from './validation.ts';

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (isObject(value)) return Object.values(value).some(hasTemplate);
  return false;
}

/** Problems with `parameters` (a rule's `action.parameters`) for `action`, fields rooted at `action.parameters`. */
export function actionParameterProblems(parameters: Record<string, unknown>, action: Action): ErrorDetail[] {
  const schema = action.parametersSchema;
  const properties = isObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? schema['required'].filter((r): r is string => typeof r === 'string') : [];
  const problems: ErrorDetail[] = [];
  const what = `action '${action.ref}'`;
  for (const name of required) {
    const property = properties[name];
    if (!(name in parameters) && !(isObject(property) && 'default' in property)) {
      problems.push({ field: `action.parameters.${name}`, message: `is required by ${what}` });
    }
  }
  for (const [name, value] of Object.entries(parameters)) {
    const property = properties[name];
    if (property === undefined) {
      if (schema['additionalProperties'] === false) problems.push({ field: `action.parameters.${name}`, message: `is not a parameter of ${what}` });
    } else if (isObject(property) && property['literal'] === true && hasTemplate(value)) {
      problems.push({
        field: `action.parameters.${name}`,
        message: `must be literal text in ${what}: pass event data through its arguments or environment, never a template`,
      });
    }
  }
  const literals = Object.fromEntries(
    Object.entries(parameters)
      .filter(([name, value]) => name in properties && !hasTemplate(value))
      .map(([name, value]) => [name, structuredClone(value)]),
  );
  let validate: ReturnType<typeof compileUserSchema>;
  try {
    validate = compileUserSchema(schema, `${action.ref}.parametersSchema`);
  } catch {
    return problems; // the action's own registration reports a broken schema
  }
  if (!validate(literals)) {
    const typeErrors = (validate.errors ?? []).filter(
      (e) => e.instancePath !== '' || (e.keyword !== 'required' && e.keyword !== 'additionalProperties'),
    );
    for (const d of ajvDetails(typeErrors, 'action.parameters')) problems.push({ field: d.field, message: `${d.message} (${what})` });
  }
  return problems;
}
