/**
 * Who may do what: API keys, roles and their permission grants, the audit trail, and how a named
 * webhook authenticates its sender. Types and request schemas only; the logic (hashing, HMAC,
 * authorization) lives in @reflex/auth.
 */
import type { JsonObject } from './json.ts';

/**
 * Every permission a route can require: `<resource>:<verb>`. A grant may also name a pattern:
 * `rules:*`, `*:read`, `*`.
 */
export const PERMISSIONS = [
  'events:read',
  'events:dispatch',
  'rules:read',
  'rules:write',
  'actions:read',
  'triggertypes:read',
  'executions:read',
  'executions:run',
  'executions:cancel',
  'enforcements:read',
  'inquiries:respond',
  'packs:read',
  'packs:register',
  'webhooks:read',
  'webhooks:write',
  'webhooks:post',
  'apikeys:read',
  'apikeys:write',
  'roles:read',
  'roles:write',
  'audit:read',
  'keys:read',
  'keys:write',
  'keys:decrypt',
  'silences:read',
  'silences:write',
] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const BUILTIN_ROLE_NAMES = ['admin', 'operator', 'viewer'] as const;
export type BuiltinRoleName = (typeof BUILTIN_ROLE_NAMES)[number];

/**
 * Permissions (or patterns of them), optionally limited to resources whose ref matches one of
 * `scope` (`linux.*`: every ref of pack linux, and the pack itself; `linux.restart`; `*`).
 * Without a scope the grant covers every resource.
 */
export interface Grant {
  permissions: string[];
  scope?: string[];
}

export interface Role {
  name: string;
  description?: string;
  grants: Grant[];
  /** Built-in roles exist in code, never in the store. */
  builtin?: boolean;
  createdAt: string;
  updatedAt: string;
}

export type ApiKeyKind = 'key' | 'token';

/**
 * An API key (long-lived, made by an admin) or a token (short-lived, minted from a key with
 * POST /v1/auth/tokens). Only the SHA-256 of the secret is kept; the secret is shown once.
 */
export interface ApiKey {
  /** ULID; also the public part of the key string (`rfx_<id>_<secret>`). */
  id: string;
  name: string;
  role: string;
  kind: ApiKeyKind;
  /** Hex SHA-256 of the whole key string. */
  hash: string;
  createdAt: string;
  /** Id of the key that created it; absent for the bootstrap admin key. */
  createdBy?: string;
  expiresAt?: string;
  revokedAt?: string;
  /** Tokens: the key they were minted from (revoking it ends them too). */
  parentId?: string;
}

/** An API key as the API shows it: never the hash, never the secret. */
export type ApiKeyView = Omit<ApiKey, 'hash'>;

export interface AuditActor {
  /** `apikey`/`token` for authenticated callers; `anonymous` when auth is off; `system` for Reflex itself. */
  kind: 'apikey' | 'token' | 'anonymous' | 'system';
  id?: string;
  name: string;
  role?: string;
}

export interface AuditEntry {
  /** ULID (time-sortable). */
  id: string;
  at: string;
  actor: AuditActor;
  /** `<resource>.<verb>`: `rule.create`, `execution.run`, `apikey.revoke`, ... */
  action: string;
  target?: { type: string; id: string };
  /** The caller's address, as the API saw it. */
  ip?: string;
  /** HTTP status of the request that made the change. */
  status?: number;
  traceId?: string;
  /** What else is worth knowing (never a secret). */
  details?: JsonObject;
}

export type WebhookAuthType = 'apikey' | 'token' | 'hmac';
export type HmacAlgorithm = 'sha1' | 'sha256' | 'sha512';

/**
 * How one webhook url authenticates its sender, as stored. Shared tokens are kept as a SHA-256
 * hash; HMAC secrets are sealed (AES-256-GCM with the installation's secrets key), because
 * verifying a signature needs the secret itself. Neither ever leaves the API.
 */
export interface WebhookAuth {
  url: string;
  type: WebhookAuthType;
  /** token: header carrying the token. hmac: header carrying the signature. */
  header?: string;
  /** token: hex SHA-256 of the shared token. */
  tokenHash?: string;
  /** hmac: the sealed secret. */
  sealedSecret?: string;
  algorithm?: HmacAlgorithm;
  /** hmac: text before the digest in the signature header (`sha256=`, `v0=`). */
  prefix?: string;
  encoding?: 'hex' | 'base64';
  /** hmac: header with the sender's Unix timestamp (seconds); when set, old or replayed requests are refused. */
  timestampHeader?: string;
  toleranceSeconds?: number;
  /** hmac: what is signed: `{body}` (default) or e.g. `v0:{timestamp}:{body}` (Slack). */
  signedPayload?: string;
  createdAt: string;
  updatedAt: string;
}

/** A webhook auth as the API shows it: no hash, no sealed secret. */
export type WebhookAuthView = Omit<WebhookAuth, 'tokenHash' | 'sealedSecret'> & { hasSecret: boolean };

/** A webhook url (the path under /v1/webhooks/), as the core.webhook trigger's parameters allow it. */
export const WEBHOOK_URL_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_./-]{0,200}$';

const NAME = '^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$';
const ROLE_NAME = '^[a-z][a-z0-9_-]{0,63}$';
const HEADER = '^[A-Za-z0-9-]{1,64}$';
/** A permission, or a pattern of them (`rules:*`, `*:read`, `*`). */
export const PERMISSION_PATTERN = '^(\\*|[a-z]+:(\\*|[a-z]+)|\\*:[a-z]+)$';
/** A ref pattern in a grant's scope (`linux.*`, `linux.restart`, `*`, a webhook url). */
export const SCOPE_PATTERN = '^[A-Za-z0-9_*][A-Za-z0-9_.*/-]{0,199}$';

export interface ApiKeyInput {
  name: string;
  role: string;
  expiresAt?: string;
}

export const apiKeyInputSchema = {
  $id: 'reflex:apikey-input',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'role'],
  properties: {
    name: { type: 'string', pattern: NAME },
    role: { type: 'string', pattern: ROLE_NAME },
    expiresAt: { type: 'string', format: 'date-time' },
  },
} as const;

export interface TokenInput {
  /** Seconds until the token expires; default 900, at most 86 400. */
  ttlSeconds?: number;
}

export const tokenInputSchema = {
  $id: 'reflex:token-input',
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { ttlSeconds: { type: 'integer', minimum: 60, maximum: 86400 } },
} as const;

export interface RoleInput {
  name: string;
  description?: string;
  grants: Grant[];
}

export const roleInputSchema = {
  $id: 'reflex:role-input',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'grants'],
  properties: {
    name: { type: 'string', pattern: ROLE_NAME },
    description: { type: 'string', maxLength: 1024 },
    grants: {
      type: 'array',
      maxItems: 100,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['permissions'],
        properties: {
          permissions: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', pattern: PERMISSION_PATTERN } },
          scope: { type: 'array', minItems: 1, maxItems: 100, items: { type: 'string', pattern: SCOPE_PATTERN } },
        },
      },
    },
  },
} as const;

/** What a client sends to PUT /v1/webhook-auth/<url>; secrets are write-only. */
export type WebhookAuthInput =
  | { type: 'apikey' }
  | { type: 'token'; token: string; header?: string }
  | {
      type: 'hmac';
      secret: string;
      /** `github` (X-Hub-Signature-256, sha256=<hex>) or `slack` (X-Slack-Signature, v0:ts:body); fields below override it. */
      preset?: 'github' | 'slack';
      header?: string;
      algorithm?: HmacAlgorithm;
      prefix?: string;
      encoding?: 'hex' | 'base64';
      timestampHeader?: string;
      toleranceSeconds?: number;
      signedPayload?: string;
    };

export const webhookAuthInputSchema = {
  $id: 'reflex:webhook-auth-input',
  type: 'object',
  required: ['type'],
  oneOf: [
    { type: 'object', additionalProperties: false, required: ['type'], properties: { type: { const: 'apikey' } } },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'token'],
      properties: {
        type: { const: 'token' },
        token: { type: 'string', minLength: 16, maxLength: 1024 },
        header: { type: 'string', pattern: HEADER },
      },
    },
    {
      type: 'object',
      additionalProperties: false,
      required: ['type', 'secret'],
      properties: {
        type: { const: 'hmac' },
        secret: { type: 'string', minLength: 16, maxLength: 1024 },
        preset: { enum: ['github', 'slack'] },
        header: { type: 'string', pattern: HEADER },
        algorithm: { enum: ['sha1', 'sha256', 'sha512'] },
        prefix: { type: 'string', maxLength: 32, pattern: '^[\\x21-\\x7e]*$' },
        encoding: { enum: ['hex', 'base64'] },
        timestampHeader: { type: 'string', pattern: HEADER },
        toleranceSeconds: { type: 'integer', minimum: 1, maximum: 86400 },
        signedPayload: { type: 'string', maxLength: 128, pattern: '\\{body\\}' },
      },
    },
  ],
} as const;
