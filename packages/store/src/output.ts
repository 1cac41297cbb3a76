/** Output chunks: the checks and limits both adapters share. */
import { ValidationError } from '@reflex/model';
import type { OutputChunk } from './store.ts';
import { timeOf } from './time.ts';

export const DEFAULT_OUTPUT_LIMIT = 1000;
export const MAX_OUTPUT_LIMIT = 10_000;

const STREAMS: readonly string[] = ['stdout', 'stderr'];

/** A chunk as it is stored, with the epoch milliseconds of its `at`. */
export interface CheckedChunk {
  chunk: OutputChunk;
  atMs: number;
}

/**
 * The chunks to append, each a fresh object holding only the chunk's fields; ValidationError naming
 * the first bad field (`chunks[2].seq`), before anything is written.
 */
export function checkChunks(executionId: unknown, chunks: readonly OutputChunk[]): CheckedChunk[] {
  if (typeof executionId !== 'string' || executionId === '') {
    throw new ValidationError('executionId must be a non-empty string', [{ field: 'executionId', message: 'must be a non-empty string' }]);
  }
  return chunks.map((chunk, i) => {
    const field = (name: string): string => `chunks[${i}].${name}`;
    const bad = (name: string, message: string): ValidationError =>
      new ValidationError(`${field(name)} ${message}`, [{ field: field(name), message }]);
    if (!Number.isSafeInteger(chunk.seq) || chunk.seq < 1) throw bad('seq', 'must be an integer >= 1');
    if (!STREAMS.includes(chunk.stream)) throw bad('stream', 'must be stdout or stderr');
    if (typeof chunk.text !== 'string') throw bad('text', 'must be a string');
    const atMs = timeOf(chunk.at, field('at'));
    return { chunk: { seq: chunk.seq, stream: chunk.stream, text: chunk.text, at: chunk.at }, atMs };
  });
}

/** `afterSeq` of a list as a whole number 0..MAX_SAFE_INTEGER; ValidationError when it is not a number. */
export function afterSeqOf(afterSeq: number | undefined): number {
  if (afterSeq === undefined) return 0;
  if (typeof afterSeq !== 'number' || Number.isNaN(afterSeq)) {
    throw new ValidationError('afterSeq must be a number', [{ field: 'afterSeq', message: 'must be a number' }]);
  }
  return Math.min(Number.MAX_SAFE_INTEGER, Math.max(0, Math.floor(afterSeq)));
}

/** Default 1000; clamped to 1..10 000. */
export function outputLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_OUTPUT_LIMIT;
  return Math.min(MAX_OUTPUT_LIMIT, Math.max(1, Math.floor(limit)));
}
