export { startActionRunner, type ActionRunnerDeps } from './runner-service.ts';
