/** A tiny JSON client for end-to-end tests against a listening Reflex API. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
}

/** The admin key a first start wrote to `<dataDir>/admin.key` (what the README tells a user to `cat`). */
export function adminKeyOf(dataDir: string): string {
  return readFileSync(join(dataDir, 'admin.key'), 'utf8').trim();
}

/** `key`: sent as `Authorization: Bearer <key>` on every call (a call's own headers win). */
export function apiClient(baseUrl: string, key?: string) {
  const auth: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  const call = async <T = unknown>(method: string, path: string, body?: unknown, extra: Record<string, string> = {}): Promise<JsonResponse<T>> => {
    const headers = { ...auth, ...extra };
    const res = await fetch(new URL(path, baseUrl), {
      method,
      headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text === '' ? null : JSON.parse(text)) as T };
  };
  return {
    get: <T = unknown>(path: string) => call<T>('GET', path),
    post: <T = unknown>(path: string, body?: unknown, headers?: Record<string, string>) => call<T>('POST', path, body, headers),
    put: <T = unknown>(path: string, body?: unknown) => call<T>('PUT', path, body),
    delete: <T = unknown>(path: string) => call<T>('DELETE', path),
  };
}

/** The rule from the README's example. */
export const diskAlertRule = {
  pack: 'demo',
  name: 'disk_alert',
  enabled: true,
  trigger: { type: 'core.webhook', parameters: { url: 'alerts' } },
  criteria: {
    and: [{ '==': [{ var: 'payload.body.status' }, 'firing'] }, { '>': [{ var: 'payload.body.value' }, 90] }],
  },
  action: { ref: 'core.echo', parameters: { message: '{{ payload.body.host }} disk at {{ payload.body.value }}%' } },
};
