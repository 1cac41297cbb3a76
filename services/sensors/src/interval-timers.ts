/**
 * The `core.interval` sensor: one timer per distinct set of trigger parameters among enabled
 * rules, each emitting a `core.interval` event every `delay` `unit`s. Timers whose parameters
 * are still in use keep their phase across reloads; others are stopped or started.
 */
import type { Logger } from 'pino';
import type { Bus } from '@reflex/bus';
import { newId, newTraceId, type BusNames, type JsonObject, type ReflexEvent } from '@reflex/model';
import { publishEvent } from '@reflex/runtime';
import type { Store } from '@reflex/store';

export const INTERVAL_TRIGGER = 'core.interval';

const UNIT_MS: Record<string, number> = {
  milliseconds: 1,
  seconds: 1000,
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};

/** Below this, a timer would flood the bus; such rules are refused here, loudly. */
const MIN_PERIOD_MS = 100;

export function periodOf(parameters: JsonObject): number | null {
  const delay = parameters['delay'];
  const unit = typeof parameters['unit'] === 'string' ? parameters['unit'] : 'seconds';
  const factor = UNIT_MS[unit];
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay <= 0 || factor === undefined) return null;
  return delay * factor;
}

function canonical(value: JsonObject): string {
  return JSON.stringify(Object.keys(value).sort().map((k) => [k, value[k]]));
}

export class IntervalTimers {
  readonly #deps: { bus: Bus; store: Store; names: BusNames; logger: Logger };
  readonly #timers = new Map<string, NodeJS.Timeout>();

  constructor(deps: { bus: Bus; store: Store; names: BusNames; logger: Logger }) {
    this.#deps = deps;
  }

  get running(): number {
    return this.#timers.size;
  }

  async reload(): Promise<void> {
    const rules = await this.#deps.store.rules.list({ triggerType: INTERVAL_TRIGGER, enabled: true });
    const wanted = new Map<string, JsonObject>();
    for (const rule of rules) {
      const parameters = rule.trigger.parameters ?? {};
      const period = periodOf(parameters);
      if (period === null || period < MIN_PERIOD_MS) {
        this.#deps.logger.error({ rule: rule.ref, parameters }, `core.interval needs a period of at least ${MIN_PERIOD_MS} ms; timer not started`);
        continue;
      }
      wanted.set(canonical(parameters), parameters);
    }
    for (const [key, timer] of this.#timers) {
      if (!wanted.has(key)) {
        clearInterval(timer);
        this.#timers.delete(key);
      }
    }
    for (const [key, parameters] of wanted) {
      if (this.#timers.has(key)) continue;
      const timer = setInterval(() => void this.#emit(parameters), periodOf(parameters) ?? MIN_PERIOD_MS);
      this.#timers.set(key, timer);
    }
  }

  async #emit(parameters: JsonObject): Promise<void> {
    const event: ReflexEvent = {
      id: newId(),
      type: INTERVAL_TRIGGER,
      triggerParameters: parameters,
      source: `sensor:${INTERVAL_TRIGGER}`,
      payload: { executed_at: new Date().toISOString(), schedule: parameters },
      occurredAt: new Date().toISOString(),
      traceId: newTraceId(),
    };
    try {
      await publishEvent(this.#deps.bus, this.#deps.names, event);
    } catch (err) {
      this.#deps.logger.warn({ err, eventId: event.id }, 'interval event could not be published; next tick will try again');
    }
  }

  stop(): void {
    for (const timer of this.#timers.values()) clearInterval(timer);
    this.#timers.clear();
  }
}
