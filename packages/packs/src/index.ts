export { loadPack, ruleNoiseKeysToModel } from './load.ts';
export { discoverPacks } from './discover.ts';
export { errorLocation, packValidationError, registerPack, registerPacks, unregisterPack } from './register.ts';
export { parametersToSchema } from './parameters.ts';
export type {
  ItemSource,
  LoadedPack,
  PackFileError,
  PackRegistration,
  Position,
  RegisterResult,
  UnregisterResult,
} from './types.ts';
