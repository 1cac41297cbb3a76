import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import type { BusNames } from '@reflex/model';
import type { Store } from '@reflex/store';
import type { Authenticator } from './auth/authenticator.ts';
import type { Catalog } from './catalog.ts';
import type { Limits } from './rate-limits.ts';
import type { WebhookGuard } from './webhook-guard.ts';

export interface AuthOptions {
  /** false (REFLEX_AUTH=off): every caller is an anonymous admin; a warning is logged at start. */
  enabled: boolean;
  /** 32 bytes that seal webhook HMAC secrets in the store; every API replica of a store needs the same. */
  secretsKey: Uint8Array;
}

/** What the API needs from the outside world; `buildApi` takes it, tests pass their own. */
export interface ApiDeps {
  store: Store;
  bus: Bus;
  names: BusNames;
  logger: Logger;
  /** Folders searched for packs by POST /v1/packs/register. */
  packsPaths: string[];
  /** Site configuration folder (`REFLEX_CONFIG_DIR`): POST /v1/packs/register stores `<dir>/<pack>.yaml` of packs with a config.schema.yaml. Absent: no file is read. */
  configDir?: string;
  bodyLimitBytes: number;
  /** Required, so that every caller decides: tests pass auth off or make an admin key. */
  auth: AuthOptions;
  /** Defaults: DEFAULT_LIMITS. */
  limits?: Partial<Limits>;
}

/** What each route plugin receives. */
export interface RouteDeps extends ApiDeps {
  catalog: Catalog;
  authenticator: Authenticator;
  webhookGuard: WebhookGuard;
  /** Drops this replica's auth caches and tells the other replicas to drop theirs. */
  authChanged(what: string): Promise<void>;
}
