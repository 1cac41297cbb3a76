export { startSensors, type SensorsDeps } from './sensors-service.ts';
export { IntervalTimers, periodOf, INTERVAL_TRIGGER } from './interval-timers.ts';
export { backoffDelay, DEFAULT_BACKOFF, type BackoffOptions } from './backoff.ts';
export { leaseKey, LEASE_OWNER } from './leases.ts';
