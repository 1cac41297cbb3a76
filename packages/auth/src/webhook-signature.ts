/**
 * Checking who sent a webhook: a shared token in a header (compared as SHA-256 digests), or an
 * HMAC of the raw body (GitHub's `X-Hub-Signature-256: sha256=<hex>`, Slack's `v0:<ts>:<body>`, or
 * any header/algorithm/prefix/encoding). When the sender stamps a time, the signature must cover
 * it, the time must be within the tolerance, and a signature is accepted once within it.
 * Every comparison of secret material is constant-time.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ValidationError, type HmacAlgorithm, type WebhookAuthInput } from '@reflex/model';
import { hashKey, sameDigest } from './keys.ts';
import type { ReplayCache } from './replay-cache.ts';

export type WebhookRejection = 'missing' | 'bad' | 'expired' | 'replayed';
export type WebhookCheck = { ok: true } | { ok: false; reason: WebhookRejection };

export const DEFAULT_TOKEN_HEADER = 'x-reflex-webhook-token';
export const DEFAULT_SIGNATURE_HEADER = 'x-reflex-signature';
export const DEFAULT_TOLERANCE_SECONDS = 300;

export interface HmacSettings {
  header: string;
  algorithm: HmacAlgorithm;
  prefix: string;
  encoding: 'hex' | 'base64';
  timestampHeader?: string;
  toleranceSeconds: number;
  /** `{body}` and optionally `{timestamp}`. */
  signedPayload: string;
}

type HmacInput = Extract<WebhookAuthInput, { type: 'hmac' }>;

const PRESETS: Record<'github' | 'slack', Partial<HmacSettings>> = {
  github: { header: 'x-hub-signature-256', algorithm: 'sha256', prefix: 'sha256=', encoding: 'hex', signedPayload: '{body}' },
  slack: {
    header: 'x-slack-signature',
    algorithm: 'sha256',
    prefix: 'v0=',
    encoding: 'hex',
    timestampHeader: 'x-slack-request-timestamp',
    signedPayload: 'v0:{timestamp}:{body}',
  },
};

/** Settings from a request body: the preset, then the fields given, then defaults. Refuses a timestamp the signature does not cover. */
export function hmacSettingsOf(input: Omit<HmacInput, 'type' | 'secret'>): HmacSettings {
  const preset = input.preset === undefined ? {} : PRESETS[input.preset];
  const timestampHeader = (input.timestampHeader ?? preset.timestampHeader)?.toLowerCase();
  const settings: HmacSettings = {
    header: (input.header ?? preset.header ?? DEFAULT_SIGNATURE_HEADER).toLowerCase(),
    algorithm: input.algorithm ?? preset.algorithm ?? 'sha256',
    prefix: input.prefix ?? preset.prefix ?? '',
    encoding: input.encoding ?? preset.encoding ?? 'hex',
    toleranceSeconds: input.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS,
    signedPayload: input.signedPayload ?? preset.signedPayload ?? (timestampHeader === undefined ? '{body}' : '{timestamp}.{body}'),
  };
  if (timestampHeader !== undefined) settings.timestampHeader = timestampHeader;
  if (settings.signedPayload.split('{body}').length !== 2) {
    throw new ValidationError('signedPayload must contain {body} exactly once', [{ field: 'body.signedPayload', message: 'must contain {body} exactly once' }]);
  }
  if (settings.timestampHeader !== undefined && !settings.signedPayload.includes('{timestamp}')) {
    throw new ValidationError('a timestamp the signature does not cover protects nothing', [
      { field: 'body.signedPayload', message: 'must contain {timestamp} when timestampHeader is set' },
    ]);
  }
  if (settings.timestampHeader === undefined && settings.signedPayload.includes('{timestamp}')) {
    throw new ValidationError('signedPayload uses {timestamp} but no timestampHeader is set', [
      { field: 'body.timestampHeader', message: 'is required when signedPayload contains {timestamp}' },
    ]);
  }
  return settings;
}

function headerOf(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const value = headers[name];
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined; // two signatures: refuse, never pick one
  return value;
}

/** The bytes the sender signed. */
function signedBytes(settings: HmacSettings, rawBody: Uint8Array, timestamp: string): Buffer {
  const [before = '', after = ''] = settings.signedPayload.split('{body}');
  return Buffer.concat([
    Buffer.from(before.replaceAll('{timestamp}', timestamp), 'utf8'),
    rawBody,
    Buffer.from(after.replaceAll('{timestamp}', timestamp), 'utf8'),
  ]);
}

/** The header value a sender with `secret` would send (for tests and for clients that sign). */
export function signWebhook(settings: HmacSettings, secret: string, rawBody: Uint8Array, timestamp = ''): string {
  const digest = createHmac(settings.algorithm, secret).update(signedBytes(settings, rawBody, timestamp)).digest(settings.encoding);
  return `${settings.prefix}${digest}`;
}

const TIMESTAMP_RE = /^\d{1,13}$/;

export interface HmacCheckOptions {
  nowMs: number;
  /** Remembers signatures within the tolerance window; `replayKey` scopes them (e.g. the url). */
  replay?: { cache: ReplayCache; scope: string };
}

export function checkHmac(
  settings: HmacSettings,
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  rawBody: Uint8Array,
  options: HmacCheckOptions,
): WebhookCheck {
  const presented = headerOf(headers, settings.header);
  if (presented === undefined || presented === '') return { ok: false, reason: 'missing' };
  let timestamp = '';
  let timestampMs = 0;
  if (settings.timestampHeader !== undefined) {
    const stamped = headerOf(headers, settings.timestampHeader);
    if (stamped === undefined || stamped === '') return { ok: false, reason: 'missing' };
    if (!TIMESTAMP_RE.test(stamped)) return { ok: false, reason: 'bad' };
    timestamp = stamped;
    // Seconds, as Slack and most senders stamp; 13 digits are milliseconds.
    timestampMs = stamped.length >= 13 ? Number(stamped) : Number(stamped) * 1000;
  }
  if (!presented.startsWith(settings.prefix)) return { ok: false, reason: 'bad' };
  const encoded = presented.slice(settings.prefix.length);
  const valid = settings.encoding === 'hex' ? /^[0-9a-fA-F]+$/.test(encoded) : /^[A-Za-z0-9+/]+={0,2}$/.test(encoded);
  if (!valid) return { ok: false, reason: 'bad' };
  const given = Buffer.from(encoded, settings.encoding);
  const expected = createHmac(settings.algorithm, secret).update(signedBytes(settings, rawBody, timestamp)).digest();
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'bad' };
  if (settings.timestampHeader !== undefined) {
    // Judged only once the signature holds: an attacker cannot tell an old request from a bad one.
    const toleranceMs = settings.toleranceSeconds * 1000;
    if (Math.abs(options.nowMs - timestampMs) > toleranceMs) return { ok: false, reason: 'expired' };
    if (options.replay?.cache.seen(`${options.replay.scope}\u0000${expected.toString('base64')}`, timestampMs + toleranceMs, options.nowMs)) {
      return { ok: false, reason: 'replayed' };
    }
  }
  return { ok: true };
}

export function checkToken(header: string, tokenHash: string, headers: Record<string, string | string[] | undefined>): WebhookCheck {
  const presented = headerOf(headers, header);
  if (presented === undefined || presented === '') return { ok: false, reason: 'missing' };
  return sameDigest(hashKey(presented), tokenHash) ? { ok: true } : { ok: false, reason: 'bad' };
}
