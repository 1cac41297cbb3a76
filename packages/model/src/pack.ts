import type { JsonSchema } from './json.ts';
import { PACK_NAME_PATTERN } from './refs.ts';

/** `pack.yaml`. */
export interface PackManifest {
  name: string;
  version: string;
  description?: string;
  author?: string;
  /** Other packs this one needs, by name, with a semver range. */
  dependencies?: Record<string, string>;
  /** Lowest Reflex version the pack works on. */
  reflexVersion?: string;
}

/** A registered pack: its manifest plus where it was loaded from. */
export interface Pack extends PackManifest {
  path: string;
  registeredAt: string;
  /** `config.schema.yaml` as a JSON Schema of an object, when the pack has one: what its configuration values must pass. */
  configSchema?: JsonSchema;
}

const SEMVER = '^(0|[1-9]\\d*)\\.(0|[1-9]\\d*)\\.(0|[1-9]\\d*)(?:-[0-9A-Za-z.-]+)?(?:\\+[0-9A-Za-z.-]+)?$';

export const packManifestSchema = {
  $id: 'reflex:pack-manifest',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'version'],
  properties: {
    name: { type: 'string', pattern: PACK_NAME_PATTERN },
    version: { type: 'string', pattern: SEMVER },
    description: { type: 'string', maxLength: 4096 },
    author: { type: 'string', maxLength: 256 },
    dependencies: {
      type: 'object',
      propertyNames: { pattern: PACK_NAME_PATTERN },
      additionalProperties: { type: 'string' },
    },
    reflexVersion: { type: 'string' },
  },
} as const;
