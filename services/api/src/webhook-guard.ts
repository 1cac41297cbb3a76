/**
 * Authenticating webhook senders. Each url may require an API key (with `webhooks:post` on that
 * url), a shared token in a header, or an HMAC signature of the raw body (see @reflex/auth). A url
 * with no auth configured stays open (local-first) and is logged once as open. A failed check is a
 * 401 (403 for a valid key without the permission), counted per url and reason, logged at most once
 * a minute per url, and never becomes an event.
 */
import {
  authorize,
  checkHmac,
  checkToken,
  DEFAULT_SIGNATURE_HEADER,
  DEFAULT_TOKEN_HEADER,
  DEFAULT_TOLERANCE_SECONDS,
  openSecret,
  ReplayCache,
  type HmacSettings,
  type WebhookCheck,
} from '@reflex/auth';
import { ForbiddenError, UnauthenticatedError, type WebhookAuth } from '@reflex/model';
import type { Store } from '@reflex/store';
import type { Logger } from 'pino';
import type { Authenticator } from './auth/authenticator.ts';

const CACHE_MS = 10_000;
const WARN_EVERY_MS = 60_000;

export type WebhookOutcome = 'accepted' | 'missing' | 'bad' | 'expired' | 'replayed' | 'forbidden';

export interface WebhookStats {
  url: string;
  auth: WebhookAuth['type'] | 'none';
  accepted: number;
  rejected: Record<Exclude<WebhookOutcome, 'accepted'>, number>;
  lastRejectedAt?: string;
}

type Headers = Record<string, string | string[] | undefined>;

const REASONS: Record<Exclude<WebhookOutcome, 'accepted'>, string> = {
  missing: 'credentials are missing',
  bad: 'credentials do not match',
  expired: 'the request timestamp is outside the allowed window',
  replayed: 'this signed request was already received',
  forbidden: 'the API key may not post to this webhook',
};

export function hmacSettingsFromRecord(auth: WebhookAuth): HmacSettings {
  const settings: HmacSettings = {
    header: auth.header ?? DEFAULT_SIGNATURE_HEADER,
    algorithm: auth.algorithm ?? 'sha256',
    prefix: auth.prefix ?? '',
    encoding: auth.encoding ?? 'hex',
    toleranceSeconds: auth.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    signedPayload: auth.signedPayload ?? '{body}',
  };
  if (auth.timestampHeader !== undefined) settings.timestampHeader = auth.timestampHeader;
  return settings;
}

export class WebhookGuard {
  readonly #store: Store;
  readonly #authenticator: Authenticator;
  readonly #secretsKey: Uint8Array;
  readonly #logger: Logger;
  readonly #replays = new ReplayCache();
  readonly #stats = new Map<string, WebhookStats>();
  readonly #warnedOpen = new Set<string>();
  readonly #lastWarned = new Map<string, number>();
  #configs: Map<string, WebhookAuth> | undefined;
  #loadedAt = 0;
  #loading: Promise<Map<string, WebhookAuth>> | undefined;
  #generation = 0;
  readonly #secrets = new Map<string, string>();

  constructor(options: { store: Store; authenticator: Authenticator; secretsKey: Uint8Array; logger: Logger }) {
    this.#store = options.store;
    this.#authenticator = options.authenticator;
    this.#secretsKey = options.secretsKey;
    this.#logger = options.logger;
  }

  /** Drops cached configs and opened secrets (after a change here or in another replica). */
  invalidate(): void {
    this.#generation++;
    this.#configs = undefined;
    this.#loading = undefined;
    this.#secrets.clear();
  }

  async configs(): Promise<Map<string, WebhookAuth>> {
    if (this.#configs !== undefined && Date.now() - this.#loadedAt < CACHE_MS) return this.#configs;
    if (this.#loading === undefined) {
      const generation = this.#generation;
      const loading = this.#store.webhookAuth.list().then((list) => {
        const configs = new Map(list.map((auth) => [auth.url, auth]));
        // A load that started before a change is used by its callers but never cached.
        if (generation === this.#generation) {
          this.#configs = configs;
          this.#loadedAt = Date.now();
          this.#secrets.clear();
        }
        return configs;
      });
      this.#loading = loading;
      void loading.finally(() => {
        if (this.#loading === loading) this.#loading = undefined;
      }).catch(() => undefined); // the error reaches the awaiting caller below
    }
    return await this.#loading;
  }

  /** Says once per url (per process) that it accepts anyone. */
  warnOpen(url: string): void {
    if (this.#warnedOpen.has(url) || this.#warnedOpen.size > 10_000) return;
    this.#warnedOpen.add(url);
    this.#logger.warn({ webhook: url }, `webhook '${url}' is open: anyone who can reach the API can post to it (PUT /v1/webhook-auth/${url} to require a key, token or signature)`);
  }

  /** The header a sender's shared token travels in, which must never be stored with the event. */
  async secretHeaderOf(url: string): Promise<string | undefined> {
    const auth = (await this.configs()).get(url);
    return auth?.type === 'token' ? auth.header : undefined;
  }

  /** Throws (401/403) unless the request may post to `url`; counts the outcome either way. */
  async check(url: string, headers: Headers, rawBody: Uint8Array): Promise<void> {
    const auth = (await this.configs()).get(url);
    if (auth === undefined) {
      this.warnOpen(url);
      return;
    }
    const result = await this.#verify(auth, headers, rawBody);
    if (result.ok) return;
    const reason = result.reason;
    this.#count(url, auth.type, reason);
    const now = Date.now();
    if (now - (this.#lastWarned.get(url) ?? 0) >= WARN_EVERY_MS) {
      this.#lastWarned.set(url, now);
      this.#logger.warn({ webhook: url, reason, auth: auth.type }, 'webhook request refused (further refusals for this url are counted, not logged, for a minute)');
    }
    const message = `webhook '${url}' refused: ${REASONS[reason]}`;
    if (reason === 'forbidden') throw new ForbiddenError(message, 'WEBHOOK_FORBIDDEN');
    throw new UnauthenticatedError(message, 'WEBHOOK_UNAUTHENTICATED');
  }

  accepted(url: string, type: WebhookAuth['type'] | 'none'): void {
    this.#entry(url, type).accepted++;
  }

  stats(): WebhookStats[] {
    return [...this.#stats.values()].sort((a, b) => a.url.localeCompare(b.url));
  }

  async #verify(auth: WebhookAuth, headers: Headers, rawBody: Uint8Array): Promise<WebhookCheck | { ok: false; reason: 'forbidden' }> {
    switch (auth.type) {
      case 'apikey': {
        let principal;
        try {
          principal = await this.#authenticator.authenticate(headers);
        } catch (err) {
          if (err instanceof UnauthenticatedError) return { ok: false, reason: 'bad' };
          throw err;
        }
        if (principal === null) return { ok: false, reason: 'missing' };
        const role = await this.#authenticator.role(principal.role);
        return authorize(role, 'webhooks:post', auth.url) ? { ok: true } : { ok: false, reason: 'forbidden' };
      }
      case 'token':
        return checkToken(auth.header ?? DEFAULT_TOKEN_HEADER, auth.tokenHash ?? '', headers);
      case 'hmac':
        return checkHmac(hmacSettingsFromRecord(auth), this.#secretOf(auth), headers, rawBody, {
          nowMs: Date.now(),
          replay: { cache: this.#replays, scope: auth.url },
        });
    }
  }

  /** Opened secrets are cached by their sealed form (unique per seal), never by url: a new secret is never confused with the old. */
  #secretOf(auth: WebhookAuth): string {
    const sealed = auth.sealedSecret ?? '';
    let secret = this.#secrets.get(sealed);
    if (secret === undefined) {
      secret = openSecret(this.#secretsKey, sealed, auth.url);
      if (this.#secrets.size > 10_000) this.#secrets.clear();
      this.#secrets.set(sealed, secret);
    }
    return secret;
  }

  #entry(url: string, type: WebhookStats['auth']): WebhookStats {
    let entry = this.#stats.get(url);
    if (entry === undefined) {
      entry = { url, auth: type, accepted: 0, rejected: { missing: 0, bad: 0, expired: 0, replayed: 0, forbidden: 0 } };
      // Only urls that exist (accepted) or have auth (refused) get here, so the map stays small.
      this.#stats.set(url, entry);
    }
    entry.auth = type;
    return entry;
  }

  #count(url: string, type: WebhookAuth['type'], reason: Exclude<WebhookOutcome, 'accepted'>): void {
    const entry = this.#entry(url, type);
    entry.rejected[reason]++;
    entry.lastRejectedAt = new Date().toISOString();
  }
}
