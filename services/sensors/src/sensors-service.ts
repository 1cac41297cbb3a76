/**
 * The sensors service: runs the core.interval timers and the sensors of registered packs, each pack
 * sensor in a supervised process of its own. With several sensors processes on one store, leases
 * decide who runs what: each pack sensor runs in exactly one process, and so do the timers (one lease
 * for all of them); when a process dies, its leases expire and another takes its work over.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import type { BusNames, JsonObject, JsonValue } from '@reflex/model';
import { onChange, packKv, type ServiceHandle } from '@reflex/runtime';
import type { KeyEntry, Store } from '@reflex/store';
import { DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
import { EventGate } from './event-gate.ts';
import { IntervalTimers } from './interval-timers.ts';
import { LeasedTimers } from './leased-timers.ts';
import { Leases } from './leases.ts';
import { PackSensors } from './pack-sensors.ts';
import { SensorSupervisor } from './sensor-supervisor.ts';
import { StatusBoard } from './status-board.ts';

const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

export interface SensorsDeps {
  bus: Bus;
  store: Store;
  names: BusNames;
  logger: Logger;
  /** Full reload period, a safety net behind change notices. Default 30 s. */
  reloadIntervalMs?: number;
  /** The pack's configuration values, given to its sensors as `ctx.config` (undefined or absent: `{}`). */
  packConfig?: (pack: string) => Promise<JsonObject | undefined>;
  /** How long a lease lasts unless renewed (default 15 s); a dead process's sensors move within about this. */
  leaseTtlMs?: number;
  /** How often leases are renewed (and free ones taken). Default a third of the TTL. */
  leaseRenewMs?: number;
  /** This process in its leases and statuses. Default `<host>:<pid>:<random>`. */
  holder?: string;
  /** Restart backoff of crashed sensors. Default 1 s doubling to 60 s, ±20 %, reset after 60 s up. */
  backoff?: Partial<BackoffOptions>;
  /** A sensor process silent this long is hung: killed and restarted. Default 30 s (it says it is alive every 2 s). */
  hangTimeoutMs?: number;
  heartbeatMs?: number;
  /** What a stopping sensor gets before SIGTERM (half) and SIGKILL. Default 5 s. */
  stopGraceMs?: number;
  /** The whole environment of sensor processes. Default `{ PATH }`: the service's own is never inherited. */
  sensorEnv?: Record<string, string>;
  /** Node binary and flags of sensor processes. Default this Node, no flags. */
  execPath?: string;
  execArgv?: string[];
  /** Opens a sealed datastore secret for `ctx.kv.get`. Default none: sensors cannot read secrets. */
  openSecret?: (entry: KeyEntry) => JsonValue;
  /** How often coalesced status changes are written. Default 1 s. */
  statusFlushMs?: number;
}

export async function startSensors(deps: SensorsDeps): Promise<ServiceHandle> {
  const logger = deps.logger.child({ service: 'sensors' });
  const leaseTtlMs = deps.leaseTtlMs ?? 15_000;
  const holder = deps.holder ?? `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const leases = new Leases({ store: deps.store, holder, ttlMs: leaseTtlMs, logger });
  const board = new StatusBoard({ store: deps.store, logger, ttlMs: 3 * leaseTtlMs, flushMs: deps.statusFlushMs ?? 1000 });
  const gate = new EventGate({ bus: deps.bus, store: deps.store, names: deps.names, logger });
  const packConfig = async (pack: string): Promise<JsonObject> => (await deps.packConfig?.(pack)) ?? {};
  const sensors = new PackSensors({
    store: deps.store,
    logger,
    leases,
    supervise: (sensor) =>
      new SensorSupervisor(sensor, {
        holder,
        host: hostname(),
        logger,
        board,
        gate,
        kv: (pack, request) => packKv({ ...deps, logger, reader: 'sensors', service: 'sensors' }, pack, request),
        packConfig,
        backoff: { ...DEFAULT_BACKOFF, ...deps.backoff },
        process: {
          env: deps.sensorEnv ?? { PATH: DEFAULT_PATH },
          ...(deps.execPath === undefined ? {} : { execPath: deps.execPath }),
          ...(deps.execArgv === undefined ? {} : { execArgv: deps.execArgv }),
          heartbeatMs: deps.heartbeatMs ?? 2000,
          hangTimeoutMs: deps.hangTimeoutMs ?? 30_000,
          stopGraceMs: deps.stopGraceMs ?? 5000,
        },
      }),
  });
  const timers = new LeasedTimers(new IntervalTimers({ ...deps, logger }), leases, logger);

  // One thing at a time: reloads, lease renewals and stops never overlap.
  let chain: Promise<void> = Promise.resolve();
  const serial = (what: string, work: () => Promise<void>): void => {
    chain = chain.then(work).catch((err: unknown) => logger.error({ err }, `could not ${what}`));
  };
  const reloadAll = (): void => {
    gate.invalidate();
    serial('reload sensors', () => sensors.reload());
    serial('reload timers', () => timers.reload());
  };
  const subscriptions = [
    ...onChange(deps.bus, deps.names, ['rules'], () => serial('reload timers', () => timers.reload())),
    ...onChange(deps.bus, deps.names, ['packs'], reloadAll),
  ];
  const renew = setInterval(() => {
    // Apart: a failing timers reload must not keep the sensors' leases from being renewed.
    serial('renew the timers lease', () => timers.tick());
    serial('renew sensor leases', () => sensors.tick());
  }, deps.leaseRenewMs ?? Math.max(100, Math.floor(leaseTtlMs / 3)));
  const periodic = setInterval(reloadAll, deps.reloadIntervalMs ?? 30_000);
  renew.unref();
  periodic.unref();

  const starting = (async () => {
    await timers.tick();
    await sensors.reload();
  })();
  chain = starting.catch(() => undefined);
  const stop = async (): Promise<void> => {
    clearInterval(renew);
    clearInterval(periodic);
    for (const s of subscriptions) s.unsubscribe();
    await chain;
    await sensors.stop();
    await timers.stop();
    await board.close();
  };
  try {
    await starting;
  } catch (err) {
    await stop();
    throw err;
  }
  logger.info({ holder, timers: timers.active ? timers.running : 'elsewhere', sensors: sensors.running }, 'sensors started');
  return {
    name: 'sensors',
    stop,
  };
}
