import type { JsonObject, JsonValue } from './json.ts';
import { groupSpecSchema, throttleSpecSchema, type GroupSpec, type ThrottleSpec } from './noise.ts';
import { NAME_PATTERN, PACK_NAME_PATTERN, REF_PATTERN } from './refs.ts';

/** Where a rule came from: written through the API, or loaded from a pack's `rules/` folder. */
export type RuleSource = 'api' | 'pack';

export interface RuleTrigger {
  type: string;
  parameters?: JsonObject;
}

export interface RuleAction {
  ref: string;
  /** Values may hold `{{ path }}` templates over the event context. */
  parameters?: JsonObject;
}

export interface Rule {
  ref: string;
  pack: string;
  name: string;
  description?: string;
  enabled: boolean;
  trigger: RuleTrigger;
  /** JSON-logic; absent means "every event of the trigger". */
  criteria?: JsonValue;
  action: RuleAction;
  /** Noise control: throttle what the rule fires (see docs/noise-control.md). Not with `group`. */
  throttle?: ThrottleSpec;
  /** Noise control: group events into alert groups that fire together. Not with `throttle`. */
  group?: GroupSpec;
  source: RuleSource;
  createdAt: string;
  updatedAt: string;
}

/** What a client sends to create or replace a rule (timestamps and ref are derived). */
export interface RuleInput {
  pack: string;
  name: string;
  description?: string;
  enabled?: boolean;
  trigger: RuleTrigger;
  criteria?: JsonValue;
  action: RuleAction;
  throttle?: ThrottleSpec;
  group?: GroupSpec;
}

export const ruleInputSchema = {
  $id: 'reflex:rule-input',
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'name', 'trigger', 'action'],
  properties: {
    ref: { type: 'string', pattern: REF_PATTERN },
    pack: { type: 'string', pattern: PACK_NAME_PATTERN },
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 4096 },
    enabled: { type: 'boolean', default: true },
    trigger: {
      type: 'object',
      additionalProperties: false,
      required: ['type'],
      properties: {
        type: { type: 'string', pattern: REF_PATTERN },
        parameters: { type: 'object' },
      },
    },
    criteria: {},
    action: {
      type: 'object',
      additionalProperties: false,
      required: ['ref'],
      properties: {
        ref: { type: 'string', pattern: REF_PATTERN },
        parameters: { type: 'object' },
      },
    },
    throttle: throttleSpecSchema,
    group: groupSpecSchema,
  },
} as const;
