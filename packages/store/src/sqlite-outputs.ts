/** Output chunks on SQLite: one row per (execution_id, seq), expiring with the execution. */
import { afterSeqOf, checkChunks, outputLimit } from './output.ts';
import { expiryOf } from './retention.ts';
import type { SqliteOps } from './sqlite-ops.ts';
import type { OutputChunk, OutputRepo, RetentionConfig } from './store.ts';

const INSERT_CHUNK = `INSERT INTO output_chunks (execution_id, seq, stream, text, at, expires_ms) VALUES (?, ?, ?, ?, ?, ?)
  ON CONFLICT (execution_id, seq) DO NOTHING`;

/** A chunk's text from its UTF-8 BLOB. */
function textOf(value: unknown): string {
  if (!(value instanceof Uint8Array)) throw new TypeError('output chunk row has no text BLOB');
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8');
}

export function sqliteOutputs(ops: SqliteOps, retention: RetentionConfig): OutputRepo {
  return {
    async append(executionId, chunks) {
      const checked = checkChunks(executionId, chunks);
      if (checked.length === 0) return;
      ops.transaction(() => {
        // The execution's own expiry when it is stored (null: kept forever), else the chunk's time.
        const execution = ops.get('SELECT expires_ms FROM executions WHERE id = ?', executionId);
        const executionExpiry = typeof execution?.['expires_ms'] === 'number' ? execution['expires_ms'] : null;
        for (const { chunk, atMs } of checked) {
          const expiresMs = execution === undefined ? expiryOf(atMs, retention.executionsMs) : executionExpiry;
          ops.run(INSERT_CHUNK, executionId, chunk.seq, chunk.stream, Buffer.from(chunk.text, 'utf8'), chunk.at, expiresMs);
        }
      });
    },

    async lastSeq(executionId) {
      const row = ops.all('SELECT MAX(seq) AS seq FROM output_chunks WHERE execution_id = ?', executionId)[0];
      return Number(row?.['seq'] ?? 0);
    },
    async list(executionId, afterSeq, limit) {
      const rows = ops.all(
        'SELECT seq, stream, text, at FROM output_chunks WHERE execution_id = ? AND seq > ? ORDER BY seq LIMIT ?',
        executionId,
        afterSeqOf(afterSeq),
        outputLimit(limit),
      );
      return rows.map(
        (row): OutputChunk => ({
          seq: Number(row['seq']),
          stream: row['stream'] === 'stderr' ? 'stderr' : 'stdout',
          text: textOf(row['text']),
          at: String(row['at']),
        }),
      );
    },
  };
}
