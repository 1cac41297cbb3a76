import type { JsonSchema } from './json.ts';
import { NAME_PATTERN, PACK_NAME_PATTERN } from './refs.ts';

/** Something Reflex can do: `core.echo`, `core.local`, `chat.post`. */
export interface Action {
  ref: string;
  pack: string;
  name: string;
  description?: string;
  enabled: boolean;
  /** Which runner executes it; executions go to the bus subject of that runner. */
  runner: string;
  /** Runner-specific: a script path, a module, a command. Relative to the pack. */
  entryPoint?: string;
  /** JSON Schema (type: object) of the parameters; defaults are applied before validation. */
  parametersSchema: JsonSchema;
}

export const actionSchema = {
  $id: 'reflex:action',
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'name', 'runner'],
  properties: {
    ref: { type: 'string' },
    pack: { type: 'string', pattern: PACK_NAME_PATTERN },
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 4096 },
    enabled: { type: 'boolean', default: true },
    runner: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' },
    entryPoint: { type: 'string', maxLength: 1024 },
    parametersSchema: { type: 'object', default: { type: 'object' } },
  },
} as const;
