/**
 * `policies/*.yaml`: StackStorm policy files, on actions of the pack itself.
 *
 *   name: restart_one_per_host
 *   resource_ref: monitoring.restart_service
 *   policy_type: action.concurrency.attr
 *   enabled: true                  # default true; a disabled policy is checked and ignored
 *   parameters: { threshold: 1, attributes: [host] }
 *
 * Each enabled policy sets one kind of the action's `policies` (concurrency, retry or timeout), as
 * if the action's own file had said it; a kind set twice (by the action's file and a policy, or by
 * two policies) is an error naming both places.
 */
import { isRef, makeRef, NAME_PATTERN, validateModel, ValidationError, type Action, type ActionPolicies, type JsonSchema } from '@reflex/model';
import { isPlainObject } from './json-schema.ts';
import { fileSchemaErrors, ownershipErrors, placeOf } from './item-file.ts';
import type { Catalog } from './references.ts';
import type { ItemSource, PackFileError, PackPolicy, PolicyType } from './types.ts';
import { fileError } from './yaml-source.ts';

const policyFileSchema = {
  $id: 'reflex:pack-policy-file',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'resource_ref', 'policy_type'],
  properties: {
    name: { type: 'string', pattern: NAME_PATTERN },
    pack: { type: 'string' },
    ref: { type: 'string' },
    description: { type: 'string', maxLength: 4096 },
    enabled: { type: 'boolean', default: true },
    resource_ref: { type: 'string' },
    policy_type: { type: 'string' },
    parameters: { type: 'object' },
  },
} as const;

const threshold = { type: 'integer', minimum: 1, maximum: 10_000 } as const;

/** What each policy type takes, in its `parameters`. */
const PARAMETERS: Record<PolicyType, JsonSchema & { $id: string; properties: Record<string, JsonSchema> }> = {
  'action.concurrency': {
    $id: 'reflex:pack-policy:action.concurrency',
    type: 'object',
    required: ['threshold'],
    properties: { threshold, action: { type: 'string' } },
  },
  'action.concurrency.attr': {
    $id: 'reflex:pack-policy:action.concurrency.attr',
    type: 'object',
    required: ['threshold', 'attributes'],
    properties: { threshold, attributes: { type: 'array', items: { type: 'string' } }, action: { type: 'string' } },
  },
  'action.retry': {
    $id: 'reflex:pack-policy:action.retry',
    type: 'object',
    required: ['retry_on'],
    properties: {
      retry_on: { type: ['string', 'array'], items: { type: 'string' }, minItems: 1, uniqueItems: true },
      max_retry_count: { type: 'integer', minimum: 0, maximum: 99, default: 2 },
      delay: { type: 'number', minimum: 0, maximum: 86_400 },
    },
  },
  'action.timeout': {
    $id: 'reflex:pack-policy:action.timeout',
    type: 'object',
    required: ['timeout'],
    properties: { timeout: { type: 'number', exclusiveMinimum: 0, maximum: 604_800 } },
  },
};

export const POLICY_TYPES = Object.keys(PARAMETERS) as PolicyType[];

function isPolicyType(value: unknown): value is PolicyType {
  return typeof value === 'string' && Object.hasOwn(PARAMETERS, value);
}

/** StackStorm's `retry_on` words → the execution statuses Reflex retries. */
const RETRY_ON = { failure: 'failed', timeout: 'timeout' } as const;
/** What `by` of a concurrency policy may be (actionPoliciesSchema). */
const BY_RE = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** The kind of the action's policies a policy type sets. */
export function policyKind(type: PolicyType): 'concurrency' | 'retry' | 'timeout' {
  if (type === 'action.retry') return 'retry';
  if (type === 'action.timeout') return 'timeout';
  return 'concurrency';
}

export interface LoadedPolicy {
  item?: PackPolicy;
  errors: PackFileError[];
}

/** The parameter names an action declares (its parameters schema's `properties`). */
function declaredParameters(action: Action): string[] {
  const properties = action.parametersSchema['properties'];
  return isPlainObject(properties) ? Object.keys(properties) : [];
}

/**
 * Checks one policy file. `action` knows this pack's actions (`'skip'` for one whose own file is
 * broken); a policy on another pack's action is an error: it belongs in that pack.
 */
export function loadPolicy(value: Record<string, unknown>, source: ItemSource, pack: string, action: Catalog['action']): LoadedPolicy {
  const file = { ...value };
  const errors = ownershipErrors(value, source, pack);
  errors.push(...fileSchemaErrors(policyFileSchema, file, source, { resourceRef: 'resource_ref', policyType: 'policy_type' }));

  let target: Action | 'skip' | undefined = 'skip';
  const resourceRef = file['resource_ref'];
  if (typeof resourceRef === 'string') {
    const prefix = resourceRef.slice(0, resourceRef.indexOf('.'));
    if (!isRef(resourceRef)) {
      errors.push(fileError(source, 'resource_ref', `must be an action ref (pack.name), like '${makeRef(pack, 'restart_service')}'`));
    } else if (prefix !== pack) {
      errors.push(fileError(source, 'resource_ref', `'${resourceRef}' is an action of pack '${prefix}': a policy goes in the pack of its action (write it in ${prefix}/policies/)`));
    } else {
      target = action(resourceRef);
      if (target === undefined) errors.push(fileError(source, 'resource_ref', `unknown action '${resourceRef}'`));
    }
  }

  const type = file['policy_type'];
  if (typeof type === 'string' && !isPolicyType(type)) {
    errors.push(fileError(source, 'policy_type', `unknown policy type '${type}' (allowed: ${POLICY_TYPES.join(', ')})`));
  }
  let policies: ActionPolicies | undefined;
  const parameters = file['parameters'] ?? {};
  if (isPolicyType(type) && isPlainObject(parameters)) {
    const checked = policyParameters(type, { ...parameters }, source, target);
    errors.push(...checked.errors);
    policies = checked.policies;
  }
  if (errors.length > 0 || policies === undefined || !isPolicyType(type)) return { errors };
  const name = file['name'] as string;
  const item: PackPolicy = {
    ref: makeRef(pack, name),
    pack,
    name,
    ...(typeof file['description'] === 'string' ? { description: file['description'] } : {}),
    enabled: file['enabled'] as boolean,
    resourceRef: resourceRef as string,
    policyType: type,
    policies,
  };
  return { item, errors };
}

/** A policy type's parameters, checked, as the part of ActionPolicies they set. */
function policyParameters(type: PolicyType, parameters: Record<string, unknown>, source: ItemSource, target: Action | 'skip' | undefined): { policies?: ActionPolicies; errors: PackFileError[] } {
  const schema = PARAMETERS[type];
  const allowed = Object.keys(schema.properties);
  const errors: PackFileError[] = [];
  for (const key of Object.keys(parameters)) {
    if (allowed.includes(key)) continue;
    errors.push(fileError(source, `parameters.${key}`, `unknown parameter of ${type} (allowed: ${allowed.join(', ')})`));
    delete parameters[key];
  }
  try {
    validateModel(schema, parameters, 'parameters', 'policy parameters');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    errors.push(...(err.details ?? []).map((d) => fileError(source, d.field, d.message)));
  }
  if (typeof parameters['action'] === 'string' && parameters['action'] !== 'delay') {
    errors.push(fileError(source, 'parameters.action', `must be 'delay': executions over the threshold wait for a slot (Reflex does not cancel them)`));
  }

  switch (type) {
    case 'action.concurrency':
      return errors.length > 0 ? { errors } : { policies: { concurrency: { limit: parameters['threshold'] as number } }, errors };
    case 'action.concurrency.attr': {
      const attributes = parameters['attributes'];
      if (Array.isArray(attributes) && attributes.length !== 1) {
        errors.push(fileError(source, 'parameters.attributes', 'must list exactly one parameter name: Reflex limits executions per value of one parameter'));
      }
      const by = Array.isArray(attributes) ? attributes[0] : undefined;
      if (typeof by === 'string' && target !== undefined && target !== 'skip') {
        const declared = declaredParameters(target);
        if (!declared.includes(by)) {
          const known = declared.length === 0 ? 'it has none' : `its parameters: ${declared.join(', ')}`;
          errors.push(fileError(source, 'parameters.attributes.0', `'${by}' is not a parameter of '${target.ref}' (${known})`));
        } else if (!BY_RE.test(by)) {
          errors.push(fileError(source, 'parameters.attributes.0', `cannot limit by '${by}': the name must be letters, digits and _ (not starting with a digit)`));
        }
      }
      return errors.length > 0 || typeof by !== 'string' ? { errors } : { policies: { concurrency: { limit: parameters['threshold'] as number, by } }, errors };
    }
    case 'action.retry': {
      const raw = parameters['retry_on'];
      const words = typeof raw === 'string' ? [raw] : Array.isArray(raw) ? raw : [];
      const on: Array<'failed' | 'timeout'> = [];
      words.forEach((word, i) => {
        if (typeof word !== 'string') return;
        if (!Object.hasOwn(RETRY_ON, word)) {
          const field = typeof raw === 'string' ? 'parameters.retry_on' : `parameters.retry_on.${i}`;
          errors.push(fileError(source, field, `must be one of "failure", "timeout"`));
        } else on.push(RETRY_ON[word as keyof typeof RETRY_ON]);
      });
      if (errors.length > 0) return { errors };
      const delay = parameters['delay'];
      const retry = { on, maxAttempts: (parameters['max_retry_count'] as number) + 1, ...(typeof delay === 'number' ? { delayMs: Math.round(delay * 1000) } : {}) };
      return { policies: { retry }, errors };
    }
    case 'action.timeout':
      return errors.length > 0 ? { errors } : { policies: { timeout: parameters['timeout'] as number }, errors };
  }
}

/**
 * Sets each enabled policy on its action (replacing the action in `actions`). A kind of policy
 * the action's own file already sets, or an earlier policy file did, is an error on the later
 * policy file naming the other place; such a policy is left out of the returned list.
 */
export function applyPolicies(
  actions: Action[],
  actionSources: ItemSource[],
  policies: PackPolicy[],
  policySources: ItemSource[],
): { policies: PackPolicy[]; sources: ItemSource[]; errors: PackFileError[] } {
  const kept: PackPolicy[] = [];
  const keptSources: ItemSource[] = [];
  const errors: PackFileError[] = [];
  /** Per action ref and kind, the policy file that set it. */
  const setBy = new Map<string, string>();
  policies.forEach((policy, i) => {
    const source = policySources[i];
    const index = actions.findIndex((a) => a.ref === policy.resourceRef);
    const action = actions[index];
    if (source === undefined) return;
    if (!policy.enabled || action === undefined) {
      kept.push(policy);
      keptSources.push(source);
      return;
    }
    const kind = policyKind(policy.policyType);
    const actionSource = actionSources[index];
    const earlier = setBy.get(`${action.ref} ${kind}`);
    // An earlier policy file first: once applied, its kind is on the action as well.
    if (earlier !== undefined) {
      errors.push(fileError(source, 'policy_type', `'${action.ref}' already has a ${kind} policy from ${earlier}: keep one of them`));
    } else if (action.policies?.[kind] !== undefined && actionSource !== undefined) {
      const there = placeOf(actionSource, `policies.${kind}`);
      errors.push(fileError(source, 'policy_type', `'${action.ref}' already has a ${kind} policy in its own file (${there}): keep one of them`));
    } else {
      setBy.set(`${action.ref} ${kind}`, placeOf(source, 'policy_type'));
      actions[index] = { ...action, policies: { ...action.policies, ...policy.policies } };
      kept.push(policy);
      keptSources.push(source);
    }
  });
  return { policies: kept, sources: keptSources, errors };
}
