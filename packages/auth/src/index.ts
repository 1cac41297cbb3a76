/** @reflex/auth: keys, authorization and webhook signatures, with no I/O beyond node:crypto. */
export { KEY_PREFIX, hashKey, keyIdOf, keyMatches, newKeySecret, sameDigest } from './keys.ts';
export { BUILTIN_ROLES, authorize, isBuiltinRole, mayEver, permissionMatches, permissionsCovered, scopeMatches } from './rbac.ts';
export { ReplayCache } from './replay-cache.ts';
export { kvSealing, maskErrorJson, openKeyValue, sealKeyValue, secretMasker, type KvSealing, type SecretMasker } from './kv-secrets.ts';
export { SECRETS_KEY_BYTES, newSecretsKey, openSecret, sealSecret } from './seal.ts';
export {
  DEFAULT_SIGNATURE_HEADER,
  DEFAULT_TOKEN_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
  checkHmac,
  checkToken,
  hmacSettingsOf,
  signWebhook,
  type HmacCheckOptions,
  type HmacSettings,
  type WebhookCheck,
  type WebhookRejection,
} from './webhook-signature.ts';
