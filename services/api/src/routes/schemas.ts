/** Shared route schema pieces (OpenAPI + validation); resource schemas come from the model. */
import type { Permission } from '@reflex/model';
import type { ScopeResolver } from '../auth/route-config.ts';

/** A route about the resource named by `:ref` in its path. */
export function refScope(permission: Permission): ScopeResolver {
  return (request) => [{ permission, ref: (request.params as { ref: string }).ref }];
}

export const errorResponse = {
  type: 'object',
  properties: {
    error: {
      type: 'object',
      properties: {
        code: { type: 'string' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
      },
    },
  },
} as const;

export const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 1000 },
  cursor: { type: 'string', maxLength: 512 },
} as const;

export const refParams = {
  type: 'object',
  required: ['ref'],
  properties: { ref: { type: 'string', maxLength: 200 } },
} as const;

export function pageOf<T>(page: { items: T[]; nextCursor?: string }): { items: T[]; nextCursor: string | null } {
  return { items: page.items, nextCursor: page.nextCursor ?? null };
}
