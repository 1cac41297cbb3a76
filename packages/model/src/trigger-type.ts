import type { JsonSchema } from './json.ts';
import { NAME_PATTERN, PACK_NAME_PATTERN } from './refs.ts';

/** A kind of event: `core.webhook`, `core.interval`, `monitoring.disk_full`. */
export interface TriggerType {
  ref: string;
  pack: string;
  name: string;
  description?: string;
  /** Schema of the parameters a rule sets on this trigger (e.g. a webhook's `url`). */
  parametersSchema?: JsonSchema;
  /** Schema every event payload of this type must pass. */
  payloadSchema?: JsonSchema;
}

export const triggerTypeSchema = {
  $id: 'reflex:trigger-type',
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'name'],
  properties: {
    ref: { type: 'string' },
    pack: { type: 'string', pattern: PACK_NAME_PATTERN },
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 4096 },
    parametersSchema: { type: 'object' },
    payloadSchema: { type: 'object' },
  },
} as const;
