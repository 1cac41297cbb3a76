export { loadPack, ruleNoiseKeysToModel } from './load.ts';
export { discoverPacks } from './discover.ts';
export { dependentsOf, errorLocation, packValidationError, registerPack, registerPacks, unregisterPack, type RegisterOptions } from './register.ts';
export { REFLEX_VERSION } from './dependencies.ts';
export {
  checkConfigValues,
  loadPackConfigFile,
  PACK_CONFIG_SCOPE,
  packConfigs,
  secretProperties,
  type ConfigSealing,
  type PackConfigFile,
  type PackConfigs,
} from './pack-config.ts';
export { parametersToSchema } from './parameters.ts';
export { registeredSensors, type PackSensor, type RegisteredSensors } from './registered-sensors.ts';
export { sensorModulePath } from './sensors.ts';
export type {
  ItemSource,
  LoadedPack,
  PackFileError,
  PackRegistration,
  Position,
  RegisterResult,
  UnregisterResult,
} from './types.ts';
export { loadPackTests, parsePackTestCase, testCaseError, TESTS_FOLDER } from './pack-test/fixture.ts';
export type { ExpectedAction, ExpectedChat, ExpectedDecision, KvPreset, PackTestCase, PackTests, TestAdvanceStep, TestEventStep, TestExpectations, TestStep } from './pack-test/fixture.ts';
export { judgeCase, partialDifferences, shown } from './pack-test/judge.ts';
export type { CaseDecisionView, CaseFailure, CaseObservation, CaseResult, Difference, FailureKind, ObservedEvent, ObservedExecution } from './pack-test/judge.ts';
