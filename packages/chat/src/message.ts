/**
 * The one message model every adapter renders. A rule's `chat.post` parameters become a
 * ChatMessage; the same message goes to Slack, Mattermost, Teams, Discord, a webhook or the
 * console unchanged. Length is never an error here: each renderer truncates to its vendor's limits.
 */
import { validateModel } from '@reflex/model';

export const SEVERITIES = ['critical', 'error', 'warning', 'info', 'ok'] as const;
export type Severity = (typeof SEVERITIES)[number];

export interface ChatLink {
  url: string;
  label?: string;
}

export interface ChatFact {
  key: string;
  value: string;
}

export interface ChatMessage {
  text: string;
  title?: string;
  severity?: Severity;
  link?: ChatLink;
  facts?: ChatFact[];
  /** Groups the messages about one thing (an alert, a deployment) so a later update can find the first. */
  threadKey?: string;
}

/**
 * JSON Schema of a chat message as a rule or a person supplies it. Fact values may be numbers
 * or booleans (a template that is exactly `{{ payload.value }}` keeps its type); they become strings.
 */
export const chatMessageSchema = {
  $id: 'reflex:chat-message',
  type: 'object',
  additionalProperties: false,
  required: ['text'],
  properties: {
    text: { type: 'string', minLength: 1 },
    title: { type: 'string' },
    severity: { enum: [...SEVERITIES] },
    link: {
      type: 'object',
      additionalProperties: false,
      required: ['url'],
      properties: {
        url: { type: 'string', pattern: '^https?://[^\\s]+$', maxLength: 3000 },
        label: { type: 'string' },
      },
    },
    facts: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['key', 'value'],
        properties: {
          key: { type: 'string', minLength: 1 },
          value: { type: ['string', 'number', 'boolean', 'null'] },
        },
      },
    },
    threadKey: { type: 'string', minLength: 1, maxLength: 512 },
  },
} as const;

/**
 * Checks `input` and returns it as a ChatMessage (fact values as strings, empty optional strings
 * dropped). Throws ValidationError naming each bad field under `root` (`parameters.link.url`).
 */
export function parseChatMessage(input: unknown, root = 'message'): ChatMessage {
  // validateModel applies defaults in place; work on a copy so the caller's object stays as it was.
  const copy: unknown = input !== null && typeof input === 'object' ? structuredClone(input) : input;
  validateModel(chatMessageSchema, copy, root, 'chat message');
  const raw = copy as {
    text: string;
    title?: string;
    severity?: Severity;
    link?: ChatLink;
    facts?: Array<{ key: string; value: string | number | boolean | null }>;
    threadKey?: string;
  };
  const message: ChatMessage = { text: raw.text };
  if (raw.title !== undefined && raw.title.trim() !== '') message.title = raw.title;
  if (raw.severity !== undefined) message.severity = raw.severity;
  if (raw.link !== undefined) {
    message.link = raw.link.label !== undefined && raw.link.label.trim() !== '' ? { url: raw.link.url, label: raw.link.label } : { url: raw.link.url };
  }
  if (raw.facts !== undefined && raw.facts.length > 0) {
    message.facts = raw.facts.map((f) => ({ key: f.key, value: f.value === null ? '' : String(f.value) }));
  }
  if (raw.threadKey !== undefined) message.threadKey = raw.threadKey;
  return message;
}

export const TRUNCATION_MARKER = '… [truncated]';

/**
 * Cuts `text` to at most `max` UTF-16 code units (the unit every vendor limit here is at least as
 * generous as), ending with `marker` when anything was cut. Never splits a surrogate pair.
 */
export function truncate(text: string, max: number, marker = TRUNCATION_MARKER): string {
  if (text.length <= max) return text;
  if (max <= marker.length) return marker.slice(0, Math.max(0, max));
  let end = max - marker.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1; // a high surrogate whose partner would be cut off
  return text.slice(0, end) + marker;
}

/** The label people read for a severity (`CRITICAL`), and a symbol that renders everywhere. */
export function severityLabel(severity: Severity): string {
  return severity.toUpperCase();
}

const SEVERITY_SYMBOL: Record<Severity, string> = {
  critical: '🔴',
  error: '🟠',
  warning: '🟡',
  info: '🔵',
  ok: '✅',
};

export function severitySymbol(severity: Severity): string {
  return SEVERITY_SYMBOL[severity];
}

/** Hex colour per severity (attachment bars, embed colours). */
const SEVERITY_COLOR: Record<Severity, string> = {
  critical: '#B00020',
  error: '#E01E5A',
  warning: '#ECB22E',
  info: '#1D9BF0',
  ok: '#2EB67D',
};

export function severityColor(severity: Severity): string {
  return SEVERITY_COLOR[severity];
}

/** The one-line summary used for notification previews and fallbacks: `🔴 Title: text`. */
export function summaryOf(message: ChatMessage): string {
  const prefix = message.severity === undefined ? '' : `${severitySymbol(message.severity)} `;
  const head = message.title === undefined ? message.text : `${message.title}: ${message.text}`;
  return prefix + head;
}
