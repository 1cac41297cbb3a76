/**
 * Local servers that speak Slack: an incoming webhook and the Web API (chat.postMessage,
 * chat.update). They check payloads the way Slack does (a block without `type`, a header over
 * 150 characters, 11 fields in a section → `invalid_blocks`) and record what they accepted.
 * Independent of the adapters' code on purpose: they are the oracle the adapters are tested against.
 */
import { randomBytes } from 'node:crypto';
import { startScriptedServer, type Answer, type RecordedRequest, type ScriptedServer } from './scripted-server.ts';

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

function textObject(v: unknown, max: number, plainOnly = false): boolean {
  if (!isObject(v)) return false;
  if (v['type'] !== 'plain_text' && (plainOnly || v['type'] !== 'mrkdwn')) return false;
  const text = v['text'];
  return typeof text === 'string' && text.length >= 1 && text.length <= max;
}

function onlyKeys(v: Json, allowed: string[]): boolean {
  return Object.keys(v).every((k) => allowed.includes(k));
}

/**
 * Block Kit checks for the blocks a message may carry (https://docs.slack.dev/reference/block-kit/blocks).
 * Returns false where Slack answers `invalid_blocks`.
 */
export function slackBlocksValid(blocks: unknown): boolean {
  if (!Array.isArray(blocks) || blocks.length > 50) return false;
  return blocks.every((block: unknown) => {
    if (!isObject(block) || typeof block['type'] !== 'string') return false;
    if (block['block_id'] !== undefined && (typeof block['block_id'] !== 'string' || block['block_id'].length > 255)) return false;
    switch (block['type']) {
      case 'header':
        return onlyKeys(block, ['type', 'text', 'block_id']) && textObject(block['text'], 150, true);
      case 'section': {
        if (!onlyKeys(block, ['type', 'text', 'fields', 'accessory', 'block_id', 'expand'])) return false;
        const { text, fields } = block;
        if (text === undefined && fields === undefined) return false;
        if (text !== undefined && !textObject(text, 3000)) return false;
        if (fields !== undefined && (!Array.isArray(fields) || fields.length < 1 || fields.length > 10 || !fields.every((f) => textObject(f, 2000)))) return false;
        return true;
      }
      case 'context': {
        const elements = block['elements'];
        return onlyKeys(block, ['type', 'elements', 'block_id']) && Array.isArray(elements) && elements.length >= 1 && elements.length <= 10 && elements.every((e) => textObject(e, 3000));
      }
      case 'actions': {
        const elements = block['elements'];
        if (!onlyKeys(block, ['type', 'elements', 'block_id']) || !Array.isArray(elements) || elements.length < 1 || elements.length > 25) return false;
        return elements.every(
          (e: unknown) =>
            isObject(e) &&
            e['type'] === 'button' &&
            textObject(e['text'], 75, true) &&
            (e['url'] === undefined || (typeof e['url'] === 'string' && e['url'].length <= 3000 && /^https?:\/\//.test(e['url']))) &&
            (e['action_id'] === undefined || (typeof e['action_id'] === 'string' && e['action_id'].length <= 255)),
        );
      }
      case 'divider':
        return onlyKeys(block, ['type', 'block_id']);
      default:
        return false;
    }
  });
}

export interface SlackWebhookServer extends ScriptedServer {
  /** The hook URL to configure (its path is the secret, as with hooks.slack.com). */
  readonly webhookUrl: string;
  /** Payloads Slack would have posted. */
  readonly accepted: Array<{ text?: string; blocks?: unknown[] }>;
}

/**
 * Slack incoming webhook: 200 `ok`; 400 `invalid_payload` / `no_text` / `invalid_blocks`;
 * 404 `no_service` for an unknown hook; 405 for other methods.
 */
export async function startSlackWebhookServer(): Promise<SlackWebhookServer> {
  const hookPath = `/services/T0REFLEX/B0REFLEX/${randomBytes(12).toString('hex')}`;
  const accepted: Array<{ text?: string; blocks?: unknown[] }> = [];
  const plain = (status: number, body: string): Answer => ({ status, body });
  const server = await startScriptedServer((req: RecordedRequest): Answer => {
    if (req.url.pathname !== hookPath) return plain(404, 'no_service');
    if (req.method !== 'POST') return plain(405, 'invalid_method');
    const body = req.json;
    if (!isObject(body) || !String(req.headers['content-type'] ?? '').startsWith('application/json')) return plain(400, 'invalid_payload');
    if ((typeof body['text'] !== 'string' || body['text'] === '') && body['blocks'] === undefined && body['attachments'] === undefined) return plain(400, 'no_text');
    if (body['blocks'] !== undefined && !slackBlocksValid(body['blocks'])) return plain(400, 'invalid_blocks');
    accepted.push(body as { text?: string; blocks?: unknown[] });
    return plain(200, 'ok');
  });
  return Object.assign(server, { webhookUrl: server.origin + hookPath, accepted });
}

export interface SlackStoredMessage {
  channel: string;
  ts: string;
  text: string;
  blocks: unknown[];
  threadTs?: string;
  /** How many times chat.update changed it. */
  edits: number;
}

export interface SlackApiServer extends ScriptedServer {
  /** `{origin}/api`: the adapter's `baseUrl`. */
  readonly baseUrl: string;
  readonly token: string;
  /** The channel the bot is in: id `C0REFLEX01`, name `alerts`. */
  readonly channelId: string;
  readonly channelName: string;
  /** Messages by ts, as they are now (after any chat.update). */
  readonly messages: Map<string, SlackStoredMessage>;
  /** Bodies of every accepted chat.postMessage / chat.update call, in order. */
  readonly calls: Array<{ method: 'chat.postMessage' | 'chat.update'; body: Json }>;
  /** Makes chat.update of this ts answer `cant_update_message` (e.g. a message posted by someone else). */
  lockMessage(ts: string): void;
}

/**
 * Slack Web API: every answer is HTTP 200 `{ ok, … }` except rate limiting (script it: 429 with
 * Retry-After and `{ ok: false, error: 'ratelimited' }`). Checks the bearer token (`not_authed`,
 * `invalid_auth`), JSON content type (`invalid_form_data`), channel (`channel_not_found`),
 * text/blocks (`no_text`, `invalid_blocks`), and for chat.update the ts (`message_not_found`).
 */
export async function startSlackApiServer(options: { token?: string } = {}): Promise<SlackApiServer> {
  const token = options.token ?? `xoxb-1111-2222-${randomBytes(8).toString('hex')}`;
  const channelId = 'C0REFLEX01';
  const channelName = 'alerts';
  const messages = new Map<string, SlackStoredMessage>();
  const calls: Array<{ method: 'chat.postMessage' | 'chat.update'; body: Json }> = [];
  const locked = new Set<string>();
  let sequence = 0;
  const fail = (error: string): Answer => ({ status: 200, body: { ok: false, error } });

  const server = await startScriptedServer((req: RecordedRequest): Answer => {
    const method = req.url.pathname.replace(/^\/api\//, '');
    if (method !== 'chat.postMessage' && method !== 'chat.update') return { status: 404, body: { ok: false, error: 'unknown_method' } };
    const auth = req.headers['authorization'];
    if (auth === undefined) return fail('not_authed');
    if (auth !== `Bearer ${token}`) return fail('invalid_auth');
    if (!String(req.headers['content-type'] ?? '').startsWith('application/json') || !isObject(req.json)) return fail('invalid_form_data');
    const body = req.json;
    const channel = body['channel'];
    if (channel !== channelId && channel !== channelName && channel !== `#${channelName}`) return fail('channel_not_found');
    const text = typeof body['text'] === 'string' ? body['text'] : '';
    if (text === '' && body['blocks'] === undefined) return fail('no_text');
    if (body['blocks'] !== undefined && !slackBlocksValid(body['blocks'])) return fail('invalid_blocks');
    const blocks = (body['blocks'] as unknown[] | undefined) ?? [];

    if (method === 'chat.update') {
      const ts = body['ts'];
      const existing = typeof ts === 'string' ? messages.get(ts) : undefined;
      if (existing === undefined || channel !== channelId) return fail('message_not_found');
      if (locked.has(existing.ts)) return fail('cant_update_message');
      existing.text = text;
      existing.blocks = blocks;
      existing.edits += 1;
      calls.push({ method, body });
      return { status: 200, body: { ok: true, channel: channelId, ts: existing.ts, text } };
    }

    sequence += 1;
    const ts = `${1_700_000_000 + sequence}.${String(sequence).padStart(6, '0')}`;
    const stored: SlackStoredMessage = { channel: channelId, ts, text, blocks, edits: 0 };
    if (typeof body['thread_ts'] === 'string') stored.threadTs = body['thread_ts'];
    messages.set(ts, stored);
    calls.push({ method, body });
    return { status: 200, body: { ok: true, channel: channelId, ts, message: { type: 'message', text, ts, blocks } } };
  });
  return Object.assign(server, {
    baseUrl: `${server.origin}/api`,
    token,
    channelId,
    channelName,
    messages,
    calls,
    lockMessage: (ts: string) => void locked.add(ts),
  });
}
