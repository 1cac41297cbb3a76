import type { Action, ActionAlias, ActionPolicies, JsonSchema, PackManifest, RuleInput, SensorDefinition, TriggerType } from '@reflex/model';

/**
 * One problem in a pack, pinned to where an author can fix it.
 *
 * `file` is relative to the folder that holds the pack folder (the packs base path), with `/`
 * separators: `core/actions/echo.yaml`. `LoadedPack.dir` says where that is on disk.
 * `field` is the dotted path of the YAML key as the author wrote it (`entry_point`,
 * `parameters.message.type`, `criteria.and.0`); it is `''` for the file as a whole (a YAML
 * syntax error, a file that is not a mapping).
 */
export interface PackFileError {
  file: string;
  /** 1-based. */
  line?: number;
  /** 1-based. */
  column?: number;
  field: string;
  message: string;
}

export interface Position {
  line: number;
  column: number;
}

/**
 * Where one loaded item came from: its file and the position of every key in it (dotted YAML
 * path → position). Lets checks that run later (rule references at registration) still name
 * the line.
 */
export interface ItemSource {
  file: string;
  positions: Record<string, Position>;
}

export interface LoadedPack {
  /** Absolute path of the pack folder. */
  dir: string;
  /** `pack.yaml` as the model has it; null when it is missing or invalid. */
  manifest: PackManifest | null;
  /** Items that passed their own checks, in file-name order. */
  triggerTypes: TriggerType[];
  actions: Action[];
  /** `pack` is always the pack's name; `enabled` is always set. */
  rules: RuleInput[];
  /** `sensors/*.yaml`: not stored; the sensors service reads them from registered packs' folders. */
  sensors: SensorDefinition[];
  /** `policies/*.yaml`, enabled or not. Not stored: the enabled ones are already in their action's `policies`. */
  policies: PackPolicy[];
  /** `aliases/*.yaml`: chat commands for actions. Checked only, not stored: nothing runs them yet. */
  aliases: ActionAlias[];
  /** `config.schema.yaml` as a JSON Schema of an object (the StackStorm form converted), when the pack has a valid one. */
  configSchema?: JsonSchema;
  /** Every problem found; the pack is registrable only when this is empty. */
  errors: PackFileError[];
  /** Where things came from: `manifest` is null when there is no readable pack.yaml; the others
   * have the same order and length as the arrays above. */
  sources: {
    manifest: ItemSource | null;
    triggerTypes: ItemSource[];
    actions: ItemSource[];
    rules: ItemSource[];
    sensors: ItemSource[];
    policies: ItemSource[];
    aliases: ItemSource[];
  };
}

/** StackStorm's policy types that Reflex maps onto an action's policies. */
export type PolicyType = 'action.concurrency' | 'action.concurrency.attr' | 'action.retry' | 'action.timeout';

/** A policy file (`policies/<name>.yaml`) on one of the pack's actions. */
export interface PackPolicy {
  /** `pack.name`. */
  ref: string;
  pack: string;
  name: string;
  description?: string;
  /** A disabled policy is checked and left off its action. */
  enabled: boolean;
  /** The action it applies to, always of the same pack. */
  resourceRef: string;
  policyType: PolicyType;
  /** What it sets on the action: one of `concurrency`, `retry`, `timeout`. */
  policies: ActionPolicies;
}

export interface RegisterResult {
  pack: string;
  triggerTypes: number;
  actions: number;
  rules: number;
  /** The pack's items that were in the store but are no longer on disk. */
  removed: { triggerTypes: number; actions: number; rules: number };
  /** The site configuration file whose values were stored (`config/<pack>.yaml`), when there was one. */
  configFile?: string;
}

export type PackRegistration =
  | { dir: string; pack: string | null; ok: true; result: RegisterResult }
  | { dir: string; pack: string | null; ok: false; errors: PackFileError[] };

export interface UnregisterResult {
  pack: string;
  removed: { triggerTypes: number; actions: number; rules: number };
}
