/**
 * Secret action parameters (`secret: true` in the action's parameter schema) are stored as given,
 * so a re-run can use them, but never leave the API: every execution is masked on the way out.
 */
import type { Execution, JsonObject, JsonSchema } from '@reflex/model';
import type { Catalog } from './catalog.ts';

export const MASK = '********';

export function secretNames(schema: JsonSchema | undefined): string[] {
  const properties = (schema?.['properties'] ?? {}) as Record<string, { secret?: unknown }>;
  return Object.entries(properties)
    .filter(([, p]) => p !== null && typeof p === 'object' && p.secret === true)
    .map(([name]) => name);
}

export function maskParameters(parameters: JsonObject, secrets: string[]): JsonObject {
  if (secrets.length === 0) return parameters;
  const masked: JsonObject = { ...parameters };
  for (const name of secrets) if (name in masked) masked[name] = MASK;
  return masked;
}

export async function maskExecution(catalog: Catalog, execution: Execution): Promise<Execution> {
  const action = await catalog.action(execution.action);
  const secrets = secretNames(action?.parametersSchema);
  return secrets.length === 0 ? execution : { ...execution, parameters: maskParameters(execution.parameters, secrets) };
}
