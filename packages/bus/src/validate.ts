/**
 * Defaults and input checks both adapters share, so a bad name or header fails the same way
 * (ValidationError naming the field) whether the bus is NATS or embedded.
 */
import { ValidationError } from '@reflex/model';
import type { ConsumeOptions, StreamConfig } from './bus.ts';
import { isValidSubject, subjectIsSubsetOf } from './subject-match.ts';

export const DEFAULT_ACK_WAIT_MS = 30_000;
export const DEFAULT_DUPLICATE_WINDOW_MS = 120_000;
export const DEFAULT_PUBLISH_TIMEOUT_MS = 5_000;

export function defaultNakDelayMs(deliveryCount: number): number {
  return Math.min(250 * Math.max(1, deliveryCount), 10_000);
}

/** Stream and durable names as NATS accepts them: no dots, wildcards, whitespace or slashes. */
const NAME = /^[^.*>\s/\\\0]+$/;
/** Header names are printable ASCII without ':' (RFC 7230 field-name, loosely). */
const HEADER_NAME = /^[!-9;-~]+$/;

export interface NormalizedStreamConfig {
  name: string;
  subjects: string[];
  maxAgeMs: number;
  duplicateWindowMs: number;
}

export function normalizeStreamConfig(config: StreamConfig): NormalizedStreamConfig {
  if (!NAME.test(config.name)) {
    throw new ValidationError(`invalid stream name '${config.name}'`, [
      { field: 'name', message: 'must be non-empty without . * > / \\ or whitespace' },
    ]);
  }
  if (config.subjects.length === 0) {
    throw new ValidationError(`stream '${config.name}' captures no subjects`, [
      { field: 'subjects', message: 'must list at least one subject' },
    ]);
  }
  config.subjects.forEach((subject, i) => {
    if (!isValidSubject(subject, { wildcards: true })) {
      throw new ValidationError(`invalid subject '${subject}'`, [
        { field: `subjects.${i}`, message: 'is not a valid subject pattern' },
      ]);
    }
  });
  const maxAgeMs = nonNegative(config.maxAgeMs ?? 0, 'maxAgeMs');
  let duplicateWindowMs = nonNegative(config.duplicateWindowMs ?? DEFAULT_DUPLICATE_WINDOW_MS, 'duplicateWindowMs');
  // NATS refuses a duplicate window longer than max age; clamp instead of failing.
  if (maxAgeMs > 0 && duplicateWindowMs > maxAgeMs) duplicateWindowMs = maxAgeMs;
  return { name: config.name, subjects: [...config.subjects], maxAgeMs, duplicateWindowMs };
}

export interface NormalizedConsumeOptions {
  stream: string;
  durable: string;
  filterSubject: string | undefined;
  ackWaitMs: number;
  /** 0 = no limit. */
  maxDeliver: number;
  concurrency: number;
  nakDelayMs: (deliveryCount: number) => number;
}

export function normalizeConsumeOptions(options: ConsumeOptions): NormalizedConsumeOptions {
  if (!NAME.test(options.stream)) {
    throw new ValidationError(`invalid stream name '${options.stream}'`, [{ field: 'stream', message: 'invalid name' }]);
  }
  if (!NAME.test(options.durable)) {
    throw new ValidationError(`invalid durable name '${options.durable}'`, [
      { field: 'durable', message: 'must be non-empty without . * > / \\ or whitespace' },
    ]);
  }
  if (options.filterSubject !== undefined && !isValidSubject(options.filterSubject, { wildcards: true })) {
    throw new ValidationError(`invalid filter subject '${options.filterSubject}'`, [
      { field: 'filterSubject', message: 'is not a valid subject pattern' },
    ]);
  }
  const ackWaitMs = options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
  if (!Number.isFinite(ackWaitMs) || ackWaitMs < 1) {
    throw new ValidationError('ackWaitMs must be a positive number', [{ field: 'ackWaitMs', message: 'must be > 0' }]);
  }
  const maxDeliver = options.maxDeliver ?? 0;
  if (!Number.isInteger(maxDeliver) || maxDeliver < 0) {
    throw new ValidationError('maxDeliver must be a positive integer', [{ field: 'maxDeliver', message: 'must be >= 1' }]);
  }
  const concurrency = options.concurrency ?? 1;
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new ValidationError('concurrency must be a positive integer', [{ field: 'concurrency', message: 'must be >= 1' }]);
  }
  return {
    stream: options.stream,
    durable: options.durable,
    filterSubject: options.filterSubject,
    ackWaitMs,
    maxDeliver,
    concurrency,
    nakDelayMs: options.nakDelayMs ?? defaultNakDelayMs,
  };
}

/** The consumer's nak delay for a failed delivery; a throwing or nonsense `nakDelayMs` falls back to the default. */
export function nakDelay(options: NormalizedConsumeOptions, deliveryCount: number): number {
  try {
    const ms = options.nakDelayMs(deliveryCount);
    if (Number.isFinite(ms) && ms >= 0) return ms;
  } catch {
    // A broken delay function must not lose the nak; use the default below.
  }
  return defaultNakDelayMs(deliveryCount);
}

/** Whether a consumer filter selects only subjects the stream captures. */
export function filterFitsStream(filterSubject: string, streamSubjects: readonly string[]): boolean {
  return streamSubjects.some((pattern) => subjectIsSubsetOf(filterSubject, pattern));
}

export function checkPublishSubject(subject: string): void {
  if (!isValidSubject(subject)) {
    throw new ValidationError(`invalid publish subject '${subject}'`, [
      { field: 'subject', message: 'must be dot-separated tokens without wildcards or whitespace' },
    ]);
  }
}

export function checkSubscribeSubject(subject: string): void {
  if (!isValidSubject(subject, { wildcards: true })) {
    throw new ValidationError(`invalid subject '${subject}'`, [{ field: 'subject', message: 'is not a valid subject pattern' }]);
  }
}

/** Reserved: NATS interprets `Nats-*` headers itself, so neither adapter lets them through. */
export function isReservedHeader(name: string): boolean {
  return name.length >= 5 && name.slice(0, 5).toLowerCase() === 'nats-';
}

export function checkHeaders(headers: Readonly<Record<string, string>>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (!HEADER_NAME.test(name) || isReservedHeader(name)) {
      throw new ValidationError(`invalid header name '${name}'`, [
        { field: `headers.${name}`, message: 'must be printable ASCII without ":" and not start with "Nats-"' },
      ]);
    }
    if (typeof value !== 'string' || value.includes('\r') || value.includes('\n')) {
      throw new ValidationError(`invalid value for header '${name}'`, [
        { field: `headers.${name}`, message: 'must be a string without CR or LF' },
      ]);
    }
  }
}

function nonNegative(value: number, field: string): number {
  if (!Number.isFinite(value) || value < 0) {
    throw new ValidationError(`${field} must be a non-negative number`, [{ field, message: 'must be >= 0' }]);
  }
  return value;
}
