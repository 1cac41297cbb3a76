import type { ExecutionRequest, JsonValue } from '@reflex/model';

export interface RunContext {
  /** Aborted when the execution is canceled or times out. */
  signal: AbortSignal;
}

/**
 * Carries out execution requests of one runner type. Returns the result (stored with the
 * execution); throws to fail it (a ReflexError's code and message are kept).
 */
export interface Runner {
  readonly name: string;
  run(request: ExecutionRequest, ctx: RunContext): Promise<JsonValue>;
}
