export { startWorker, CANCEL_TOPIC, type WorkerDeps } from './worker.ts';
export { capResult, concurrencyKey, retryDelayMs, shouldRetry } from './policies.ts';
