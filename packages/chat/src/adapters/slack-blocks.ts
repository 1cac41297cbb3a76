/**
 * ChatMessage → Slack Block Kit, shared by the incoming-webhook and Web API adapters.
 *
 * Formats and limits (https://docs.slack.dev/reference/block-kit/blocks):
 * - header: plain_text, at most 150 characters;
 * - section: mrkdwn text at most 3000 characters; `fields` at most 10, each at most 2000;
 * - context: at most 10 elements;
 * - actions: a button's text at most 75 characters, its url at most 3000;
 * - at most 50 blocks per message; top-level `text` is the notification fallback.
 * Untrusted text is escaped (`&`, `<`, `>`, per https://docs.slack.dev/messaging/formatting-message-text)
 * so an alert body cannot ping `<!channel>` or forge links.
 */
import { severityLabel, severitySymbol, summaryOf, truncate, TRUNCATION_MARKER, type ChatMessage } from '../message.ts';

export const SLACK_LIMITS = {
  headerText: 150,
  sectionText: 3000,
  fieldsPerSection: 10,
  fieldText: 2000,
  contextElements: 10,
  buttonText: 75,
  url: 3000,
  blocks: 50,
  /** Top-level `text`; Slack truncates at 40,000 but advises staying near 4,000. */
  fallbackText: 4000,
  /** Fact sections rendered at most; the rest are counted in the context line. */
  factSections: 4,
} as const;

export type SlackTextObject = { type: 'plain_text'; text: string; emoji?: boolean } | { type: 'mrkdwn'; text: string };

export type SlackBlock =
  | { type: 'header'; text: SlackTextObject }
  | { type: 'section'; text?: SlackTextObject; fields?: SlackTextObject[] }
  | { type: 'context'; elements: SlackTextObject[] }
  | { type: 'actions'; elements: Array<{ type: 'button'; text: SlackTextObject; url: string; action_id: string }> };

export interface SlackRendered {
  text: string;
  blocks: SlackBlock[];
}

export interface RenderOptions {
  /** Mark the message as an update of its thread key. */
  followUp?: boolean;
}

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Escapes, then truncates without leaving half an entity (`&am`) before the marker. */
export function escapedWithin(text: string, max: number): string {
  const escaped = escapeMrkdwn(text);
  if (escaped.length <= max) return escaped;
  const cut = truncate(escaped, max);
  const head = cut.slice(0, cut.length - TRUNCATION_MARKER.length).replace(/&[a-z]{0,3}$/, '');
  return head + TRUNCATION_MARKER;
}

export function renderSlack(message: ChatMessage, options: RenderOptions = {}): SlackRendered {
  const blocks: SlackBlock[] = [];
  const symbol = message.severity === undefined ? '' : `${severitySymbol(message.severity)} `;
  if (message.title !== undefined) {
    blocks.push({ type: 'header', text: { type: 'plain_text', text: truncate(symbol + message.title, SLACK_LIMITS.headerText), emoji: true } });
  }
  const body = message.title === undefined ? symbol + message.text : message.text;
  blocks.push({ type: 'section', text: { type: 'mrkdwn', text: escapedWithin(body, SLACK_LIMITS.sectionText) } });

  const facts = message.facts ?? [];
  const shown = facts.slice(0, SLACK_LIMITS.fieldsPerSection * SLACK_LIMITS.factSections);
  for (let i = 0; i < shown.length; i += SLACK_LIMITS.fieldsPerSection) {
    blocks.push({
      type: 'section',
      fields: shown.slice(i, i + SLACK_LIMITS.fieldsPerSection).map((f) => ({
        type: 'mrkdwn' as const,
        text: escapedWithin(`*${f.key}*\n${f.value === '' ? '-' : f.value}`, SLACK_LIMITS.fieldText),
      })),
    });
  }

  const context: string[] = [];
  if (options.followUp === true) context.push('↻ *update*');
  if (message.severity !== undefined) context.push(`*${severityLabel(message.severity)}*`);
  if (facts.length > shown.length) context.push(`+${facts.length - shown.length} more facts`);
  if (message.threadKey !== undefined) context.push(escapedWithin(`thread: ${message.threadKey}`, 500));
  if (context.length > 0) {
    blocks.push({ type: 'context', elements: [{ type: 'mrkdwn', text: context.join('  ·  ') }] });
  }

  if (message.link !== undefined) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: truncate(message.link.label ?? 'Open', SLACK_LIMITS.buttonText), emoji: true },
          url: message.link.url,
          action_id: 'reflex_open_link',
        },
      ],
    });
  }

  const fallback = (options.followUp === true ? '↻ ' : '') + summaryOf(message);
  return { text: escapedWithin(fallback, SLACK_LIMITS.fallbackText), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}
