/**
 * API replicas tell each other that keys, roles or webhook auth changed (`<p>.control.auth`), so a
 * revoked key stops working everywhere at once rather than when a cache expires. Best effort: the
 * caches also expire after a few seconds.
 */
import { encodeJson, type Bus, type Subscription } from '@reflex/bus';
import type { BusNames } from '@reflex/model';
import type { Logger } from 'pino';

export const AUTH_TOPIC = 'auth';

export function onAuthChange(bus: Bus, names: BusNames, handler: () => void): Subscription {
  return bus.subscribe(names.controlSubject(AUTH_TOPIC), () => handler());
}

export async function announceAuthChange(bus: Bus, names: BusNames, logger: Logger, what: string): Promise<void> {
  try {
    await bus.notify(names.controlSubject(AUTH_TOPIC), encodeJson({ what }));
  } catch (err) {
    logger.warn({ err, what }, 'could not announce an auth change; other API replicas see it when their caches expire');
  }
}
