import { ValidationError } from './errors.ts';
import type { JsonObject, JsonSchema, JsonValue } from './json.ts';
import { NAME_PATTERN, PACK_NAME_PATTERN } from './refs.ts';

/** A kind of event: `core.webhook`, `core.interval`, `monitoring.disk_full`. */
export interface TriggerType {
  ref: string;
  pack: string;
  name: string;
  description?: string;
  /** Schema of the parameters a rule sets on this trigger (e.g. a webhook's `url`). */
  parametersSchema?: JsonSchema;
  /** Schema every event payload of this type must pass. */
  payloadSchema?: JsonSchema;
  /**
   * Events of this type arrive as `POST /v1/webhooks/<url>`, for rules whose `trigger.parameters.url`
   * is `<url>`. The JSON body is the payload; with `split`, each item of the body's array `split`
   * becomes one event whose payload is the body without that array, plus the item under `item`
   * (an Alertmanager notification with five alerts is five events).
   */
  webhook?: WebhookIngest;
}

export interface WebhookIngest {
  /** A top-level field of the body holding an array: one event per item. */
  split?: string;
  /** The name the item gets in each event's payload. Default `item`. */
  item?: string;
}

const FIELD_NAME = '^[A-Za-z_][A-Za-z0-9_]{0,63}$';

export const triggerTypeSchema = {
  $id: 'reflex:trigger-type',
  type: 'object',
  additionalProperties: false,
  required: ['pack', 'name'],
  properties: {
    ref: { type: 'string' },
    pack: { type: 'string', pattern: PACK_NAME_PATTERN },
    name: { type: 'string', pattern: NAME_PATTERN },
    description: { type: 'string', maxLength: 4096 },
    parametersSchema: { type: 'object' },
    payloadSchema: { type: 'object' },
    webhook: {
      type: 'object',
      additionalProperties: false,
      properties: { split: { type: 'string', pattern: FIELD_NAME }, item: { type: 'string', pattern: FIELD_NAME } },
    },
  },
} as const;

/**
 * The payloads one request makes for a webhook trigger type of a pack (`webhook:` in its YAML): the
 * JSON body, or with `split`, one payload per item of the body's array — the body without the array,
 * plus the item under `item` — so an Alertmanager notification of five alerts makes five events.
 */
export function webhookPayloads(triggerType: TriggerType, body: JsonValue): JsonValue[] {
  const split = triggerType.webhook?.split;
  if (split === undefined) return [body];
  const list = body !== null && typeof body === 'object' && !Array.isArray(body) ? body[split] : undefined;
  if (!Array.isArray(list)) {
    throw new ValidationError(`the body of a ${triggerType.ref} webhook needs a list '${split}'`, [
      { field: `body.${split}`, message: `must be an array (${triggerType.ref} makes one event per item)` },
    ]);
  }
  const { [split]: _items, ...rest } = body as JsonObject;
  const item = triggerType.webhook?.item ?? 'item';
  return list.map((entry) => ({ ...rest, [item]: entry }));
}
