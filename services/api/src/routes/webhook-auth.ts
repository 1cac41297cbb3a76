/**
 * How each webhook url authenticates its sender: PUT /v1/webhook-auth/<url> with
 * `{ "type": "apikey" }`, `{ "type": "token", "token": "…", "header"? }` or
 * `{ "type": "hmac", "secret": "…", "preset"?: "github" | "slack", header/algorithm/prefix/encoding/
 * timestampHeader/toleranceSeconds/signedPayload? }`. Secrets are write-only: a token is kept as its
 * SHA-256, an HMAC secret sealed with the secrets key; answers say `hasSecret: true` and nothing more.
 */
import type { FastifyPluginAsync } from 'fastify';
import { DEFAULT_TOKEN_HEADER, hashKey, hmacSettingsOf, sealSecret } from '@reflex/auth';
import {
  NotFoundError,
  ValidationError,
  WEBHOOK_URL_PATTERN,
  webhookAuthInputSchema,
  type WebhookAuth,
  type WebhookAuthInput,
  type WebhookAuthView,
} from '@reflex/model';
import { noteAudit } from '../auth/route-config.ts';
import type { RouteDeps } from '../deps.ts';
import { errorResponse } from './schemas.ts';

const URL_RE = new RegExp(WEBHOOK_URL_PATTERN);

export function webhookAuthView(auth: WebhookAuth): WebhookAuthView {
  const { tokenHash, sealedSecret, ...rest } = auth;
  return { ...rest, hasSecret: tokenHash !== undefined || sealedSecret !== undefined };
}

function checkUrl(url: string): void {
  if (!URL_RE.test(url)) throw new ValidationError('not a webhook url', [{ field: 'params.url', message: `must match ${WEBHOOK_URL_PATTERN}` }]);
}

function recordOf(url: string, input: WebhookAuthInput, secretsKey: Uint8Array, existing: WebhookAuth | null): WebhookAuth {
  const now = new Date().toISOString();
  const base = { url, createdAt: existing?.createdAt ?? now, updatedAt: now };
  switch (input.type) {
    case 'apikey':
      return { ...base, type: 'apikey' };
    case 'token':
      return { ...base, type: 'token', header: (input.header ?? DEFAULT_TOKEN_HEADER).toLowerCase(), tokenHash: hashKey(input.token) };
    case 'hmac': {
      const { secret, type: _type, preset: _preset, ...fields } = input;
      const settings = hmacSettingsOf(input.preset === undefined ? fields : { ...fields, preset: input.preset });
      return { ...base, type: 'hmac', ...settings, sealedSecret: sealSecret(secretsKey, secret, url) };
    }
  }
}

export const webhookAuthRoutes: FastifyPluginAsync<RouteDeps> = async (app, deps) => {
  app.get(
    '/v1/webhook-auth',
    { config: { permission: 'webhooks:read' }, schema: { tags: ['webhooks'], summary: 'Webhook urls that require authentication, and how (never their secrets)' } },
    async () => ({ items: (await deps.store.webhookAuth.list()).map(webhookAuthView) }),
  );

  app.get<{ Params: { '*': string } }>(
    '/v1/webhook-auth/*',
    { config: { permission: 'webhooks:read' }, schema: { tags: ['webhooks'], summary: 'How one webhook url authenticates its sender' } },
    async (request) => {
      const auth = await deps.store.webhookAuth.get(request.params['*']);
      if (auth === null) throw new NotFoundError('webhook auth', request.params['*']);
      return webhookAuthView(auth);
    },
  );

  app.put<{ Params: { '*': string }; Body: WebhookAuthInput }>(
    '/v1/webhook-auth/*',
    {
      config: { permission: 'webhooks:write', audit: 'webhook-auth.put' },
      schema: {
        tags: ['webhooks'],
        summary: 'Require an API key, a shared token or an HMAC signature on a webhook url (secrets are write-only)',
        body: webhookAuthInputSchema,
        response: { 400: errorResponse },
      },
    },
    async (request, reply) => {
      const url = request.params['*'];
      checkUrl(url);
      const existing = await deps.store.webhookAuth.get(url);
      const record = recordOf(url, request.body, deps.auth.secretsKey, existing);
      await deps.store.webhookAuth.put(record);
      await deps.authChanged('webhook-auth.put');
      noteAudit(request, { target: { type: 'webhook', id: url }, details: { type: record.type } });
      return reply.code(existing === null ? 201 : 200).send(webhookAuthView(record));
    },
  );

  app.delete<{ Params: { '*': string } }>(
    '/v1/webhook-auth/*',
    {
      config: { permission: 'webhooks:write', audit: 'webhook-auth.delete' },
      schema: { tags: ['webhooks'], summary: 'Open a webhook url again (no authentication)' },
    },
    async (request, reply) => {
      const url = request.params['*'];
      if (!(await deps.store.webhookAuth.delete(url))) throw new NotFoundError('webhook auth', url);
      await deps.authChanged('webhook-auth.delete');
      noteAudit(request, { target: { type: 'webhook', id: url } });
      return reply.code(204).send();
    },
  );
};
