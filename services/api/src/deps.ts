import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import type { BusNames } from '@reflex/model';
import type { Store } from '@reflex/store';
import type { Catalog } from './catalog.ts';

/** What the API needs from the outside world; `buildApi` takes it, tests pass their own. */
export interface ApiDeps {
  store: Store;
  bus: Bus;
  names: BusNames;
  logger: Logger;
  /** Folders searched for packs by POST /v1/packs/register. */
  packsPaths: string[];
  bodyLimitBytes: number;
}

/** What each route plugin receives. */
export interface RouteDeps extends ApiDeps {
  catalog: Catalog;
}
