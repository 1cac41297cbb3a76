/**
 * `sensors/*.yaml`: a sensor's metadata, StackStorm style.
 *
 *   name: disk_usage
 *   description: Disk usage of every mounted filesystem
 *   entry_point: disk_usage.ts          # relative to sensors/, inside the pack
 *   trigger_types: [disk_usage, load]   # names of this pack's trigger types, or full refs
 *   poll_interval: 60                   # seconds; overrides the module's own
 *   enabled: true                       # default true
 *
 * Trigger types of the sensor's own pack are checked here; refs into other packs when the pack is
 * registered (like rules).
 */
import path from 'node:path';
import { makeRef, sensorDefinitionSchema, validateModel, ValidationError, type SensorDefinition, type TriggerType } from '@reflex/model';
import { resolveEntryPoint } from './entry-point.ts';
import type { Catalog } from './references.ts';
import type { ItemSource, PackFileError } from './types.ts';
import { fileError } from './yaml-source.ts';

/** YAML key → model field. */
const SENSOR_KEYS: Record<string, string> = { entry_point: 'entryPoint', trigger_types: 'triggerTypes', poll_interval: 'pollInterval' };
const MODULE_EXT = /\.(ts|mts|js|mjs|cjs)$/;

function yamlField(field: string): string {
  const dot = field.indexOf('.');
  const head = dot < 0 ? field : field.slice(0, dot);
  const yaml = Object.entries(SENSOR_KEYS).find(([, f]) => f === head)?.[0];
  return yaml === undefined ? field : yaml + field.slice(head.length);
}

/** A trigger type as a sensor file names it (`load` or `linux.load`), as a ref. */
export function sensorTriggerRef(pack: string, name: string): string {
  return name.includes('.') ? name : makeRef(pack, name);
}

export interface LoadedSensor {
  item?: SensorDefinition;
  errors: PackFileError[];
}

/** Checks one sensor file; `triggerType` knows this pack's trigger types (`'skip'` for refs into other packs). */
export async function loadSensor(
  value: Record<string, unknown>,
  source: ItemSource,
  pack: string,
  packDir: string,
  triggerType: Catalog['triggerType'],
): Promise<LoadedSensor> {
  const errors: PackFileError[] = [];
  const model: Record<string, unknown> = {};
  const yamlOf = new Map(Object.entries(SENSOR_KEYS).map(([yaml, field]) => [field, yaml]));
  for (const [key, v] of Object.entries(value)) {
    if (yamlOf.has(key)) errors.push(fileError(source, key, `is not allowed (write ${yamlOf.get(key)})`));
    else model[SENSOR_KEYS[key] ?? key] = v;
  }
  if (value['pack'] !== undefined && value['pack'] !== pack) {
    errors.push(fileError(source, 'pack', `is '${String(value['pack'])}' but the file is in pack '${pack}'`));
  }
  if (value['ref'] !== undefined && typeof value['name'] === 'string' && value['ref'] !== makeRef(pack, value['name'])) {
    errors.push(fileError(source, 'ref', `is '${String(value['ref'])}' but must be '${makeRef(pack, value['name'])}'`));
  }
  model['pack'] = pack;
  delete model['ref'];
  try {
    validateModel(sensorDefinitionSchema, model, '', 'sensor file');
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    errors.push(...(err.details ?? []).map((d) => fileError(source, yamlField(d.field), d.message)));
  }

  let entryPoint: string | undefined;
  if (typeof model['entryPoint'] === 'string' && model['entryPoint'] !== '') {
    if (!MODULE_EXT.test(model['entryPoint'])) {
      errors.push(fileError(source, 'entry_point', 'must be a TypeScript or JavaScript module (.ts, .mts, .js, .mjs, .cjs)'));
    } else {
      const resolved = await resolveEntryPoint(packDir, 'sensors', model['entryPoint']);
      if ('error' in resolved) errors.push(fileError(source, 'entry_point', resolved.error));
      else entryPoint = resolved.path;
    }
  }

  const triggerTypes: string[] = [];
  if (Array.isArray(model['triggerTypes'])) {
    model['triggerTypes'].forEach((name, i) => {
      if (typeof name !== 'string') return;
      const ref = sensorTriggerRef(pack, name);
      triggerTypes.push(ref);
      if (triggerType(ref) === undefined) errors.push(fileError(source, `trigger_types.${i}`, `unknown trigger type '${ref}'`));
    });
  }
  if (errors.length > 0 || entryPoint === undefined) return { errors };
  const name = model['name'] as string;
  const item: SensorDefinition = {
    ref: makeRef(pack, name),
    pack,
    name,
    ...(typeof model['description'] === 'string' ? { description: model['description'] } : {}),
    entryPoint,
    triggerTypes,
    ...(typeof model['pollInterval'] === 'number' ? { pollInterval: model['pollInterval'] } : {}),
    enabled: model['enabled'] as boolean,
  };
  return { item, errors };
}

/** At registration: a sensor's trigger types in other packs must be loaded with it or registered. */
export function sensorReferenceErrors(sensor: SensorDefinition, source: ItemSource, triggerType: (ref: string) => TriggerType | undefined | 'skip'): PackFileError[] {
  const errors: PackFileError[] = [];
  sensor.triggerTypes.forEach((ref, i) => {
    if (triggerType(ref) === undefined) errors.push(fileError(source, `trigger_types.${i}`, `unknown trigger type '${ref}'`));
  });
  return errors;
}

/** The absolute path of a sensor's module. */
export function sensorModulePath(packDir: string, sensor: SensorDefinition): string {
  return path.join(packDir, ...sensor.entryPoint.split('/'));
}
