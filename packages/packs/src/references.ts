import { ajvDetails, compileUserSchema, ValidationError, type Action, type RuleInput, type TriggerType } from '@reflex/model';
import { isPlainObject } from './json-schema.ts';
import type { ItemSource, PackFileError } from './types.ts';
import { fileError } from './yaml-source.ts';

/** What a rule may point at. `undefined` means unknown; `'skip'` means do not check this ref. */
export interface Catalog {
  triggerType(ref: string): TriggerType | undefined | 'skip';
  action(ref: string): Action | undefined | 'skip';
}

function hasTemplate(value: unknown): boolean {
  if (typeof value === 'string') return value.includes('{{') || value.includes('{%');
  if (Array.isArray(value)) return value.some(hasTemplate);
  if (isPlainObject(value)) return Object.values(value).some(hasTemplate);
  return false;
}

/**
 * Checks what a rule points at: its trigger type and action exist, its trigger parameters pass
 * the trigger type's parameters schema, and its action parameters name only parameters the
 * action has, give every required one (unless it has a default), and, where a value holds no
 * template, that the value passes the parameter's schema.
 */
export function ruleReferenceErrors(rule: RuleInput, source: ItemSource, catalog: Catalog): PackFileError[] {
  const errors: PackFileError[] = [];
  const triggerType = catalog.triggerType(rule.trigger.type);
  if (triggerType === undefined) {
    errors.push(fileError(source, 'trigger.type', `unknown trigger type '${rule.trigger.type}'`));
  } else if (triggerType !== 'skip' && triggerType.parametersSchema !== undefined) {
    const parameters = structuredClone(rule.trigger.parameters ?? {});
    const validate = compileUserSchema(triggerType.parametersSchema, `${triggerType.ref}.parametersSchema`);
    if (!validate(parameters)) {
      for (const d of ajvDetails(validate.errors, 'trigger.parameters')) {
        errors.push(fileError(source, d.field, `${d.message} (trigger type '${triggerType.ref}')`));
      }
    }
  }
  const action = catalog.action(rule.action.ref);
  if (action === undefined) {
    errors.push(fileError(source, 'action.ref', `unknown action '${rule.action.ref}'`));
  } else if (action !== 'skip') {
    errors.push(...actionParameterErrors(rule, source, action));
  }
  return errors;
}

function actionParameterErrors(rule: RuleInput, source: ItemSource, action: Action): PackFileError[] {
  const schema = action.parametersSchema;
  const properties = isPlainObject(schema['properties']) ? schema['properties'] : {};
  const required = Array.isArray(schema['required']) ? schema['required'].filter((r) => typeof r === 'string') : [];
  const given = rule.action.parameters ?? {};
  const errors: PackFileError[] = [];
  const what = `action '${action.ref}'`;
  for (const name of required) {
    const property = properties[name];
    const hasDefault = isPlainObject(property) && 'default' in property;
    if (!(name in given) && !hasDefault) errors.push(fileError(source, `action.parameters.${name}`, `is required by ${what}`));
  }
  if (schema['additionalProperties'] === false) {
    for (const name of Object.keys(given)) {
      if (!(name in properties)) errors.push(fileError(source, `action.parameters.${name}`, `is not a parameter of ${what}`));
    }
  }
  const literals = Object.fromEntries(
    Object.entries(given).filter(([name, value]) => name in properties && !hasTemplate(value)).map(([n, v]) => [n, structuredClone(v)]),
  );
  let validate: ReturnType<typeof compileUserSchema>;
  try {
    validate = compileUserSchema(schema, `${action.ref}.parametersSchema`);
  } catch (err) {
    if (err instanceof ValidationError) return errors; // the action's own registration reports it
    throw err;
  }
  if (!validate(literals)) {
    const typeErrors = (validate.errors ?? []).filter(
      (e) => e.instancePath !== '' || (e.keyword !== 'required' && e.keyword !== 'additionalProperties'),
    );
    for (const d of ajvDetails(typeErrors, 'action.parameters')) errors.push(fileError(source, d.field, `${d.message} (${what})`));
  }
  return errors;
}
