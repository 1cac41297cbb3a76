/**
 * Vendor protocol test servers: local node:http servers that answer like Slack, Mattermost,
 * Teams Workflows, Discord and a well-behaved generic webhook receiver. Each records every
 * request (`requests`), keeps what it accepted, and can be scripted (`script`, `always`) to
 * answer 429 with Retry-After, 5xx, slowly, or never. Exported for the chat notifier's
 * end-to-end tests: `import { startSlackApiServer } from '../../packages/chat/test/servers.ts'`.
 * Use with `await using server = await startDiscordServer()` or call `close()`.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { startScriptedServer, type Answer, type RecordedRequest, type ScriptedServer } from './scripted-server.ts';

export { startScriptedServer } from './scripted-server.ts';
export type { Answer, ProtocolHandler, RecordedRequest, ScriptedServer, ScriptStep } from './scripted-server.ts';
export { slackBlocksValid, startSlackApiServer, startSlackWebhookServer } from './slack-servers.ts';
export type { SlackApiServer, SlackStoredMessage, SlackWebhookServer } from './slack-servers.ts';

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const isJsonRequest = (req: RecordedRequest): boolean => String(req.headers['content-type'] ?? '').startsWith('application/json');

export interface WebhookServer<T> extends ScriptedServer {
  /** The URL to configure; its secret part is random per server. */
  readonly webhookUrl: string;
  readonly accepted: T[];
}

// ── Mattermost ──────────────────────────────────────────────────────────────────────────────

/**
 * Mattermost incoming webhook: 200 `ok`; errors are JSON app errors with `status_code`:
 * unknown hook → 400 `web.incoming_webhook.invalid.app_error`, nothing to post → 400
 * `web.incoming_webhook.text.app_error`, a post over 16,383 characters → 400.
 */
export async function startMattermostServer(): Promise<WebhookServer<Json>> {
  const hookId = randomBytes(13).toString('hex'); // 26 characters, like Mattermost's ids
  const accepted: Json[] = [];
  const appError = (id: string, message: string): Answer => ({ status: 400, body: { id, message, detailed_error: '', request_id: randomBytes(13).toString('hex'), status_code: 400 } });
  const server = await startScriptedServer((req): Answer => {
    if (req.method !== 'POST' || req.url.pathname !== `/hooks/${hookId}`) return appError('web.incoming_webhook.invalid.app_error', 'Invalid webhook.');
    const body = req.json;
    if (!isObject(body)) return appError('api.webhook.incoming.parse.app_error', 'Unable to parse incoming data.');
    const attachments = body['attachments'];
    if ((typeof body['text'] !== 'string' || body['text'] === '') && (!Array.isArray(attachments) || attachments.length === 0)) {
      return appError('web.incoming_webhook.text.app_error', 'No text specified.');
    }
    if (typeof body['text'] === 'string' && body['text'].length > 16383) return appError('web.incoming_webhook.text.length.app_error', 'Text too long.');
    if (attachments !== undefined) {
      const ok =
        Array.isArray(attachments) &&
        attachments.every(
          (a: unknown) =>
            isObject(a) &&
            (a['text'] === undefined || (typeof a['text'] === 'string' && a['text'].length <= 16383)) &&
            (a['fields'] === undefined ||
              (Array.isArray(a['fields']) && a['fields'].every((f: unknown) => isObject(f) && typeof f['title'] === 'string' && f['value'] !== undefined))),
        );
      if (!ok) return appError('api.webhook.incoming.attachments.app_error', 'Invalid attachments.');
    }
    accepted.push(body);
    return { status: 200, body: 'ok' };
  });
  return Object.assign(server, { webhookUrl: `${server.origin}/hooks/${hookId}`, accepted });
}

// ── Microsoft Teams (Workflows) ─────────────────────────────────────────────────────────────

const ADAPTIVE = 'application/vnd.microsoft.card.adaptive';
const CARD_ELEMENTS = new Set(['TextBlock', 'FactSet', 'Container', 'ColumnSet', 'Image', 'ActionSet', 'RichTextBlock']);

function adaptiveCardValid(content: unknown): boolean {
  if (!isObject(content) || content['type'] !== 'AdaptiveCard' || typeof content['version'] !== 'string' || !Array.isArray(content['body'])) return false;
  const bodyOk = content['body'].every((e: unknown) => {
    if (!isObject(e) || typeof e['type'] !== 'string' || !CARD_ELEMENTS.has(e['type'])) return false;
    if (e['type'] === 'TextBlock') return typeof e['text'] === 'string';
    if (e['type'] === 'FactSet') return Array.isArray(e['facts']) && e['facts'].every((f: unknown) => isObject(f) && typeof f['title'] === 'string' && typeof f['value'] === 'string');
    return true;
  });
  const actions = content['actions'];
  const actionsOk =
    actions === undefined ||
    (Array.isArray(actions) && actions.every((a: unknown) => isObject(a) && (a['type'] !== 'Action.OpenUrl' || (typeof a['url'] === 'string' && /^https?:\/\//.test(a['url'])))));
  return bodyOk && actionsOk;
}

/**
 * Teams Workflows trigger ("When a Teams webhook request is received"): 202 with no body.
 * A wrong `sig` → 401 `DirectApiAuthorizationRequired`; an unknown workflow → 404
 * `WorkflowNotFound`; over 28 KB → 413; not a message of Adaptive Card attachments → 400
 * `InvalidRequestContent`. (The real trigger accepts some bad cards and fails the flow run later;
 * refusing them here makes the test catch what would never show up in the channel.)
 */
export async function startTeamsServer(): Promise<WebhookServer<Json>> {
  const workflowId = randomBytes(16).toString('hex');
  const sig = randomBytes(20).toString('base64url');
  const path = `/workflows/${workflowId}/triggers/manual/paths/invoke`;
  const accepted: Json[] = [];
  const err = (status: number, code: string, message: string): Answer => ({ status, body: { error: { code, message } } });
  const server = await startScriptedServer((req): Answer => {
    if (req.url.pathname !== path) return err(404, 'WorkflowNotFound', 'The workflow could not be found.');
    if (req.url.searchParams.get('sig') !== sig) return err(401, 'DirectApiAuthorizationRequired', 'The request must be authenticated only by Shared Access scheme.');
    if (req.method !== 'POST') return err(405, 'MethodNotAllowed', 'The HTTP method is not allowed.');
    if (Buffer.byteLength(req.body) > 28 * 1024) return err(413, 'MessageTooLarge', 'The message exceeds 28 KB.');
    const body = req.json;
    if (!isJsonRequest(req) || !isObject(body) || body['type'] !== 'message' || !Array.isArray(body['attachments']) || body['attachments'].length === 0) {
      return err(400, 'InvalidRequestContent', 'The request content must be a message with attachments.');
    }
    const cardsOk = body['attachments'].every((a: unknown) => isObject(a) && a['contentType'] === ADAPTIVE && adaptiveCardValid(a['content']));
    if (!cardsOk) return err(400, 'InvalidRequestContent', `Each attachment must be an Adaptive Card with contentType ${ADAPTIVE}.`);
    accepted.push(body);
    return { status: 202 };
  });
  return Object.assign(server, {
    webhookUrl: `${server.origin}${path}?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=${sig}`,
    accepted,
  });
}

// ── Discord ─────────────────────────────────────────────────────────────────────────────────

export interface DiscordMessage {
  id: string;
  channel_id: string;
  webhook_id: string;
  content: string;
  embeds: Json[];
  edits: number;
}

export interface DiscordServer extends WebhookServer<Json> {
  /** Messages by id, as they are now. */
  readonly messages: Map<string, DiscordMessage>;
  readonly channelId: string;
  /** A 429 the way Discord sends it: JSON `retry_after` in seconds and a Retry-After header. */
  rateLimit(retryAfterSeconds: number): void;
}

function discordEmbedErrors(embeds: unknown): string | undefined {
  if (!Array.isArray(embeds) || embeds.length > 10) return 'embeds: must be at most 10';
  for (const [i, e] of embeds.entries()) {
    if (!isObject(e)) return `embeds.${i}: must be an object`;
    const str = (k: string, max: number): boolean => e[k] === undefined || (typeof e[k] === 'string' && e[k].length <= max);
    if (!str('title', 256)) return `embeds.${i}.title: BASE_TYPE_MAX_LENGTH 256`;
    if (!str('description', 4096)) return `embeds.${i}.description: BASE_TYPE_MAX_LENGTH 4096`;
    if (e['color'] !== undefined && (!Number.isInteger(e['color']) || (e['color'] as number) < 0 || (e['color'] as number) > 0xffffff)) return `embeds.${i}.color: invalid`;
    if (e['timestamp'] !== undefined && Number.isNaN(Date.parse(String(e['timestamp'])))) return `embeds.${i}.timestamp: invalid ISO8601`;
    let total = String(e['title'] ?? '').length + String(e['description'] ?? '').length;
    const footer = e['footer'];
    if (footer !== undefined) {
      if (!isObject(footer) || typeof footer['text'] !== 'string' || footer['text'].length > 2048) return `embeds.${i}.footer.text: invalid`;
      total += footer['text'].length;
    }
    const fields = e['fields'];
    if (fields !== undefined) {
      if (!Array.isArray(fields) || fields.length > 25) return `embeds.${i}.fields: must be at most 25`;
      for (const [j, f] of fields.entries()) {
        if (!isObject(f) || typeof f['name'] !== 'string' || typeof f['value'] !== 'string') return `embeds.${i}.fields.${j}: name and value are required`;
        if (f['name'].length < 1 || f['name'].length > 256) return `embeds.${i}.fields.${j}.name: BASE_TYPE_BAD_LENGTH 1-256`;
        if (f['value'].length < 1 || f['value'].length > 1024) return `embeds.${i}.fields.${j}.value: BASE_TYPE_BAD_LENGTH 1-1024`;
        total += f['name'].length + f['value'].length;
      }
    }
    if (total > 6000) return `embeds.${i}: MAX_EMBED_SIZE_EXCEEDED 6000`;
  }
  return undefined;
}

/**
 * Discord webhook: execute (POST, `?wait=true` → 200 with the message, else 204) and edit
 * (PATCH …/messages/{id}). Errors are `{ message, code }`: 401 50027 Invalid Webhook Token,
 * 404 10015 Unknown Webhook, 404 10008 Unknown Message, 400 50006 empty message, 400 50035
 * Invalid Form Body (limits), 400 50109 invalid JSON.
 */
export async function startDiscordServer(): Promise<DiscordServer> {
  const webhookId = '1234567890123456789';
  const token = randomBytes(32).toString('base64url');
  const channelId = '987654321098765432';
  const base = `/api/webhooks/${webhookId}`;
  const accepted: Json[] = [];
  const messages = new Map<string, DiscordMessage>();
  let sequence = 0n;
  const error = (status: number, code: number, message: string, errors?: string): Answer => ({
    status,
    body: errors === undefined ? { message, code } : { message, code, errors: { _errors: [{ code: 'INVALID', message: errors }] } },
  });

  const server = await startScriptedServer((req): Answer => {
    const match = /^\/api\/webhooks\/(\d+)\/([^/]+)(?:\/messages\/(\d+))?$/.exec(req.url.pathname);
    if (match === null || match[1] !== webhookId) return error(404, 10015, 'Unknown Webhook');
    if (match[2] !== token) return error(401, 50027, 'Invalid Webhook Token');
    if (req.json === undefined || !isJsonRequest(req)) return error(400, 50109, 'The request body contains invalid JSON.');
    const body = req.json;
    if (!isObject(body)) return error(400, 50109, 'The request body contains invalid JSON.');
    const content = body['content'];
    if (content !== undefined && (typeof content !== 'string' || content.length > 2000)) return error(400, 50035, 'Invalid Form Body', 'content: BASE_TYPE_MAX_LENGTH 2000');
    if (body['embeds'] !== undefined) {
      const why = discordEmbedErrors(body['embeds']);
      if (why !== undefined) return error(400, 50035, 'Invalid Form Body', why);
    }
    const embeds = (body['embeds'] as Json[] | undefined) ?? [];
    const messageId = match[3];
    if (messageId !== undefined) {
      if (req.method !== 'PATCH') return error(405, 0, '405: Method Not Allowed');
      const existing = messages.get(messageId);
      if (existing === undefined) return error(404, 10008, 'Unknown Message');
      if (content !== undefined) existing.content = content as string;
      if (body['embeds'] !== undefined) existing.embeds = embeds;
      existing.edits += 1;
      return { status: 200, body: { ...existing } };
    }
    if (req.method !== 'POST') return error(405, 0, '405: Method Not Allowed');
    if ((typeof content !== 'string' || content === '') && embeds.length === 0) return error(400, 50006, 'Cannot send an empty message');
    sequence += 1n;
    const message: DiscordMessage = { id: String(1_200_000_000_000_000_000n + sequence), channel_id: channelId, webhook_id: webhookId, content: (content as string | undefined) ?? '', embeds, edits: 0 };
    messages.set(message.id, message);
    accepted.push(body);
    return req.url.searchParams.get('wait') === 'true' ? { status: 200, body: { ...message, type: 0, timestamp: new Date().toISOString() } } : { status: 204 };
  });
  return Object.assign(server, {
    webhookUrl: `${server.origin}${base}/${token}`,
    accepted,
    messages,
    channelId,
    rateLimit: (seconds: number) =>
      server.script({ status: 429, headers: { 'retry-after': String(Math.ceil(seconds)), 'x-ratelimit-scope': 'shared' }, body: { message: 'You are being rate limited.', retry_after: seconds, global: false } }),
  });
}

// ── Generic webhook receiver ────────────────────────────────────────────────────────────────

export interface WebhookReceiver extends WebhookServer<Json> {
  /** Requests that repeated an Idempotency-Key already seen (answered with the first id, not accepted again). */
  readonly duplicates: number;
}

/**
 * What a careful receiver of Reflex's generic webhook does: verifies `X-Reflex-Signature`
 * (`v1=` HMAC-SHA256 of `<timestamp>.<body>`, 5 minutes tolerance) when it has a secret (401
 * otherwise), requires `type: 'reflex.chat.message'` (400), answers 200 `{ id }`, and answers a
 * repeated Idempotency-Key with the first id without accepting it again.
 */
export async function startWebhookReceiver(options: { secret?: string } = {}): Promise<WebhookReceiver> {
  const accepted: Json[] = [];
  const seen = new Map<string, string>();
  let duplicates = 0;
  let sequence = 0;
  const server = await startScriptedServer((req): Answer => {
    if (req.method !== 'POST' || req.url.pathname !== '/hook') return { status: 404, body: { error: 'not_found' } };
    if (options.secret !== undefined) {
      const ts = req.headers['x-reflex-timestamp'];
      const signature = req.headers['x-reflex-signature'];
      const fresh = typeof ts === 'string' && /^\d+$/.test(ts) && Math.abs(Date.now() / 1000 - Number(ts)) <= 300;
      const expected = `v1=${createHmac('sha256', options.secret).update(`${String(ts)}.${req.body}`).digest('hex')}`;
      const valid = fresh && typeof signature === 'string' && signature.length === expected.length && timingSafeEqual(Buffer.from(signature), Buffer.from(expected));
      if (!valid) return { status: 401, body: { error: 'invalid_signature' } };
    }
    const body = req.json;
    if (!isObject(body) || body['type'] !== 'reflex.chat.message' || !isObject(body['message'])) return { status: 400, body: { error: 'bad_request' } };
    const key = req.headers['idempotency-key'];
    if (typeof key === 'string') {
      const first = seen.get(key);
      if (first !== undefined) {
        duplicates += 1;
        return { status: 200, body: { id: first } };
      }
    }
    sequence += 1;
    const id = typeof body['replaces'] === 'string' ? body['replaces'] : `msg-${sequence}`;
    if (typeof key === 'string') seen.set(key, id);
    accepted.push(body);
    return { status: 200, body: { id } };
  });
  const receiver = Object.assign(server, { webhookUrl: `${server.origin}/hook`, accepted });
  // A live getter: Object.assign would copy the count once.
  Object.defineProperty(receiver, 'duplicates', { get: () => duplicates, enumerable: true });
  return receiver as WebhookReceiver;
}

export { fakeClock } from './fake-clock.ts';
export type { FakeClock } from './fake-clock.ts';
