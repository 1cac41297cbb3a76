/**
 * The pack sensors this process runs: every enabled sensor of the registered packs whose lease it
 * holds. `reload` reads the definitions again (start, packs registered, a periodic safety net) and
 * stops sensors that changed or went away; `tick` (every lease renewal) renews or takes leases,
 * starts what it took and stops what it lost.
 */
import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import { registeredSensors, type PackSensor } from '@reflex/packs';
import type { Store } from '@reflex/store';
import { leaseKey, type Leases } from './leases.ts';
import type { SensorSupervisor } from './sensor-supervisor.ts';

export interface PackSensorsDeps {
  store: Store;
  logger: Logger;
  leases: Leases;
  supervise(sensor: PackSensor): SensorSupervisor;
}

/** What makes a running sensor stale: its definition, where it lives, and its module's last change. */
async function fingerprint(sensor: PackSensor): Promise<string> {
  const mtime = await stat(sensor.modulePath).then(
    (s) => s.mtimeMs,
    () => 0,
  );
  return JSON.stringify([sensor.definition, sensor.packDir, sensor.modulePath, mtime]);
}

export class PackSensors {
  readonly #deps: PackSensorsDeps;
  #wanted = new Map<string, { sensor: PackSensor; fingerprint: string }>();
  readonly #running = new Map<string, { supervisor: SensorSupervisor; fingerprint: string }>();
  /** Sensors whose lease went elsewhere, still stopping. */
  readonly #stopping = new Set<Promise<void>>();

  constructor(deps: PackSensorsDeps) {
    this.#deps = deps;
  }

  /** Refs of the sensors running here. */
  get running(): string[] {
    return [...this.#running.keys()];
  }

  supervisor(ref: string): SensorSupervisor | undefined {
    return this.#running.get(ref)?.supervisor;
  }

  async reload(): Promise<void> {
    const { sensors, problems } = await registeredSensors(this.#deps.store);
    for (const problem of problems) this.#deps.logger.warn({ pack: problem.pack, errors: problem.errors }, 'sensors of a registered pack have errors on disk; those are not run');
    const wanted = new Map<string, { sensor: PackSensor; fingerprint: string }>();
    for (const sensor of sensors) {
      if (sensor.definition.enabled) wanted.set(sensor.definition.ref, { sensor, fingerprint: await fingerprint(sensor) });
    }
    // Stopped side by side: one stop may take its grace period, and renewals wait behind reloads.
    const stale = [...this.#running].filter(([ref, running]) => wanted.get(ref)?.fingerprint !== running.fingerprint);
    await Promise.all(
      stale.map(async ([ref, running]) => {
        this.#running.delete(ref);
        await running.supervisor.stop('changed');
        if (!wanted.has(ref)) await this.#deps.leases.release(leaseKey(ref));
      }),
    );
    this.#wanted = wanted;
    await this.tick();
  }

  async tick(): Promise<void> {
    for (const [ref, { sensor, fingerprint: print }] of this.#wanted) {
      const held = await this.#deps.leases.hold(leaseKey(ref));
      const running = this.#running.get(ref);
      if (held && running === undefined) {
        const supervisor = this.#deps.supervise(sensor);
        this.#running.set(ref, { supervisor, fingerprint: print });
        supervisor.start();
      } else if (held && running !== undefined) {
        running.supervisor.touch();
      } else if (!held && running !== undefined) {
        this.#running.delete(ref);
        this.#deps.logger.warn({ sensor: ref }, 'another sensors process holds this sensor now; stopping it here');
        // Not awaited: the stop refuses the sensor's events at once, and the other leases must not
        // wait behind its grace period. `stop()` waits for it.
        const stopping: Promise<void> = running.supervisor
          .stop('lost')
          .catch((err: unknown) => this.#deps.logger.error({ err, sensor: ref }, 'could not stop a sensor cleanly'))
          .finally(() => this.#stopping.delete(stopping));
        this.#stopping.add(stopping);
      }
    }
  }

  /** Stops every sensor and releases their leases, so another process takes them over at once. */
  async stop(): Promise<void> {
    const running = [...this.#running.entries()];
    this.#running.clear();
    this.#wanted.clear();
    await Promise.all([...this.#stopping]);
    await Promise.all(
      running.map(async ([ref, { supervisor }]) => {
        await supervisor.stop('shutdown');
        await this.#deps.leases.release(leaseKey(ref));
      }),
    );
  }
}
