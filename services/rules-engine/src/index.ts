export { startRulesEngine, type RulesEngineDeps } from './engine.ts';
export { enforce, type Firing } from './enforce.ts';
