/**
 * Microsoft Teams through a Workflows (Power Automate) webhook: the "Send webhook alerts to a
 * channel" template, which posts each Adaptive Card attachment it receives
 * (https://learn.microsoft.com/microsoftteams/platform/webhooks-and-connectors/how-to/add-incoming-webhook).
 * Body: `{ type: 'message', attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive',
 * contentUrl: null, content: AdaptiveCard 1.4 }] }` (card schema: https://adaptivecards.io/explorer/).
 * The trigger answers 202 Accepted; failures are JSON `{ error: { code, message } }` (401
 * `DirectApiAuthorizationRequired` for a bad `sig`, 400 `TriggerInputSchemaMismatch`, 429 with
 * Retry-After). Cards over ~28 KB are refused, so the text is shortened until the card fits.
 * Nothing identifies the posted message: updates are follow-ups.
 */
import { expectTarget, type ChatAdapter, type DeliveryReceipt, type SendOptions } from '../adapter.ts';
import { failureFor, parseJson, sendHttp, stringField, type HttpContext } from '../http.ts';
import { severityLabel, severitySymbol, truncate, type ChatMessage, type Severity } from '../message.ts';
import { redactorFor } from '../secrets.ts';
import type { TargetConfig } from '../targets.ts';

const VENDOR = 'Teams workflow';
export const ADAPTIVE_CARD_CONTENT_TYPE = 'application/vnd.microsoft.card.adaptive';

export const TEAMS_LIMITS = {
  title: 500,
  text: 10000,
  facts: 50,
  factTitle: 200,
  factValue: 1000,
  /** Teams refuses messages over 28 KB; keep the JSON under this many bytes. */
  payloadBytes: 27000,
} as const;

type TextColor = 'Default' | 'Accent' | 'Good' | 'Warning' | 'Attention';
const COLOR: Record<Severity, TextColor> = { critical: 'Attention', error: 'Attention', warning: 'Warning', info: 'Accent', ok: 'Good' };

export type AdaptiveElement =
  | { type: 'TextBlock'; text: string; wrap: true; size?: 'Small' | 'Large'; weight?: 'Bolder'; color?: TextColor; isSubtle?: boolean }
  | { type: 'FactSet'; facts: Array<{ title: string; value: string }> };

export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.4';
  body: AdaptiveElement[];
  actions?: Array<{ type: 'Action.OpenUrl'; title: string; url: string }>;
  msteams: { width: 'Full' };
}

export interface TeamsPayload {
  type: 'message';
  attachments: Array<{ contentType: typeof ADAPTIVE_CARD_CONTENT_TYPE; contentUrl: null; content: AdaptiveCard }>;
}

interface Room {
  text: number;
  facts: number;
  factValue: number;
}

function card(message: ChatMessage, followUp: boolean, room: Room): TeamsPayload {
  const body: AdaptiveElement[] = [];
  const symbol = message.severity === undefined ? '' : `${severitySymbol(message.severity)} `;
  if (message.title !== undefined) {
    const title: AdaptiveElement = { type: 'TextBlock', text: truncate(symbol + message.title, TEAMS_LIMITS.title), wrap: true, size: 'Large', weight: 'Bolder' };
    if (message.severity !== undefined) title.color = COLOR[message.severity];
    body.push(title);
  }
  body.push({ type: 'TextBlock', text: truncate(message.title === undefined ? symbol + message.text : message.text, room.text), wrap: true });
  const facts = message.facts ?? [];
  const shown = facts.slice(0, room.facts);
  if (shown.length > 0) {
    body.push({
      type: 'FactSet',
      facts: shown.map((f) => ({ title: truncate(f.key, TEAMS_LIMITS.factTitle), value: truncate(f.value === '' ? '-' : f.value, room.factValue) })),
    });
  }
  const context: string[] = [];
  if (followUp) context.push('↻ update');
  if (message.severity !== undefined) context.push(severityLabel(message.severity));
  if (facts.length > shown.length) context.push(`+${facts.length - shown.length} more facts`);
  if (message.threadKey !== undefined) context.push(`thread: ${truncate(message.threadKey, 200)}`);
  if (context.length > 0) body.push({ type: 'TextBlock', text: context.join(' · '), wrap: true, size: 'Small', isSubtle: true });
  const content: AdaptiveCard = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.4',
    body,
    msteams: { width: 'Full' },
  };
  if (message.link !== undefined) content.actions = [{ type: 'Action.OpenUrl', title: truncate(message.link.label ?? 'Open', 100), url: message.link.url }];
  return { type: 'message', attachments: [{ contentType: ADAPTIVE_CARD_CONTENT_TYPE, contentUrl: null, content }] };
}

export function renderTeams(message: ChatMessage, options: { followUp?: boolean } = {}): TeamsPayload {
  const followUp = options.followUp === true;
  let room: Room = { text: TEAMS_LIMITS.text, facts: TEAMS_LIMITS.facts, factValue: TEAMS_LIMITS.factValue };
  let payload = card(message, followUp, room);
  // Long facts or multi-byte text can still exceed the payload limit: halve everyone's room until it fits.
  for (let i = 0; i < 8 && Buffer.byteLength(JSON.stringify(payload)) > TEAMS_LIMITS.payloadBytes; i++) {
    room = { text: Math.max(200, room.text >> 1), facts: Math.max(5, room.facts >> 1), factValue: Math.max(50, room.factValue >> 1) };
    payload = card(message, followUp, room);
  }
  if (Buffer.byteLength(JSON.stringify(payload)) > TEAMS_LIMITS.payloadBytes) payload = card(message, followUp, { text: 200, facts: 0, factValue: 50 });
  return payload;
}

export function teamsAdapter(ctx: HttpContext): ChatAdapter {
  async function send(target: TargetConfig, message: ChatMessage, options: SendOptions, followUp: boolean): Promise<DeliveryReceipt> {
    const t = expectTarget(target, 'teams');
    const redact = redactorFor(t);
    const response = await sendHttp(ctx, { vendor: VENDOR, method: 'POST', url: t.url, body: renderTeams(message, { followUp }), signal: options.signal, redact });
    if (response.status < 200 || response.status > 299) {
      const error = (parseJson(response.text) as { error?: unknown } | undefined)?.error;
      const code = stringField(error, 'code');
      const said = stringField(error, 'message');
      throw failureFor(ctx, { vendor: VENDOR, redact }, response, code === undefined ? response.text : `${code}${said === undefined ? '' : ` ${said}`}`);
    }
    const receipt: DeliveryReceipt = { target: t.name, adapter: 'teams', mode: followUp ? 'follow-up' : 'posted', editable: false };
    if (message.threadKey !== undefined) receipt.threadKey = message.threadKey;
    return receipt;
  }
  return {
    kind: 'teams',
    post: (target, message, options) => send(target, message, options, options.followUp === true),
    update: (target, _receipt, message, options) => send(target, message, options, true),
  };
}
