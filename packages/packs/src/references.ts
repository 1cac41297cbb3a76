import { actionParameterProblems, ajvDetails, compileUserSchema, type Action, type RuleInput, type TriggerType } from '@reflex/model';
import type { ItemSource, PackFileError } from './types.ts';
import { fileError } from './yaml-source.ts';

/** What a rule may point at. `undefined` means unknown; `'skip'` means do not check this ref. */
export interface Catalog {
  triggerType(ref: string): TriggerType | undefined | 'skip';
  action(ref: string): Action | undefined | 'skip';
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
  return actionParameterProblems(rule.action.parameters ?? {}, action).map((d) => fileError(source, d.field, d.message));
}
