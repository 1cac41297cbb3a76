export { startActionRunner, CANCEL_TOPIC, type ActionRunnerDeps } from './runner-service.ts';
export { capResult, concurrencyKey, retryDelayMs, shouldRetry } from './policies.ts';
