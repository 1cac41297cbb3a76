export { startRulesEngine, type RulesEngineDeps, type RulesEngineHandle } from './engine.ts';
export { enforce, type Firing } from './enforce.ts';
