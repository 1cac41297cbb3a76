/**
 * The sensors service: runs the timers (and, later, pack sensors) and keeps them in step with the
 * rules. With several sensors processes every timer currently runs in each of them (leases come
 * with pack sensors); run one sensors process per deployment until then.
 */
import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import type { BusNames } from '@reflex/model';
import { onChange, type ServiceHandle } from '@reflex/runtime';
import type { Store } from '@reflex/store';
import { IntervalTimers } from './interval-timers.ts';

export interface SensorsDeps {
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
  /** Full reload period, a safety net behind change notices. Default 30 s. */
  reloadIntervalMs?: number;
}

export async function startSensors(deps: SensorsDeps): Promise<ServiceHandle> {
  const logger = deps.logger.child({ service: 'sensors' });
  const timers = new IntervalTimers({ ...deps, logger });
  let reloading: Promise<void> = Promise.resolve();
  const reload = (): void => {
    reloading = reloading
      .then(() => timers.reload())
      .catch((err: unknown) => logger.error({ err }, 'could not reload timers'));
  };
  const subscriptions = onChange(deps.bus, deps.names, ['rules', 'packs'], reload);
  const periodic = setInterval(reload, deps.reloadIntervalMs ?? 30_000);
  periodic.unref();
  await timers.reload();
  logger.info({ timers: timers.running }, 'sensors started');
  return {
    name: 'sensors',
    stop: async () => {
      clearInterval(periodic);
      for (const s of subscriptions) s.unsubscribe();
      await reloading;
      timers.stop();
    },
  };
}
