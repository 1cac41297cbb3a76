export { startSensors, type SensorsDeps } from './sensors-service.ts';
export { IntervalTimers, periodOf, INTERVAL_TRIGGER } from './interval-timers.ts';
