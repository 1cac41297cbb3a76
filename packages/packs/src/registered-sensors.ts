/**
 * The sensors of the registered packs. Sensors are not stored: they are read from each registered
 * pack's folder (its `path` in the store), so the sensors service and the API see what is on disk
 * there, and a registration (change notice `packs`) is the moment to read them again.
 */
import type { SensorDefinition } from '@reflex/model';
import type { Store } from '@reflex/store';
import { loadPack } from './load.ts';
import { sensorModulePath } from './sensors.ts';
import type { PackFileError } from './types.ts';

export interface PackSensor {
  definition: SensorDefinition;
  /** Absolute folder of its pack. */
  packDir: string;
  /** Absolute path of its module. */
  modulePath: string;
}

export interface RegisteredSensors {
  /** By ref. */
  sensors: PackSensor[];
  /** Problems of the registered packs' folders as they are now (a sensor with errors is left out). */
  problems: Array<{ pack: string; errors: PackFileError[] }>;
}

export async function registeredSensors(store: Store): Promise<RegisteredSensors> {
  const packs = await store.packs.list();
  const sensors: PackSensor[] = [];
  const problems: RegisteredSensors['problems'] = [];
  for (const pack of packs) {
    const loaded = await loadPack(pack.path);
    if (loaded.manifest !== null && loaded.manifest.name !== pack.name) {
      problems.push({ pack: pack.name, errors: [{ file: pack.path, field: '', message: `now holds pack '${loaded.manifest.name}'; register again` }] });
      continue;
    }
    const ownErrors = loaded.errors.filter((e) => e.file.split('/')[1] === 'sensors');
    if (ownErrors.length > 0) problems.push({ pack: pack.name, errors: ownErrors });
    for (const definition of loaded.sensors) {
      if (definition.pack !== pack.name) continue;
      sensors.push({ definition, packDir: loaded.dir, modulePath: sensorModulePath(loaded.dir, definition) });
    }
  }
  sensors.sort((a, b) => (a.definition.ref < b.definition.ref ? -1 : a.definition.ref > b.definition.ref ? 1 : 0));
  return { sensors, problems };
}
