/**
 * Output chunks on MongoDB: one document per chunk, `_id` `<executionId>:<seq>`, listed through the
 * `executionId_seq` index, expiring (TTL on `expireAt`) with the execution.
 */
import type { Collection, Document } from 'mongodb';
import { onlyDuplicateKeys } from './mongo-errors.ts';
import { afterSeqOf, checkChunks, outputLimit } from './output.ts';
import { expiryOf } from './retention.ts';
import type { OutputChunk, OutputRepo, RetentionConfig } from './store.ts';

export interface StoredChunk extends OutputChunk {
  _id: string;
  executionId: string;
  expireAt?: Date;
}

export function mongoOutputs(
  outputs: Collection<StoredChunk>,
  executions: Collection<{ _id: string } & Document>,
  retention: RetentionConfig,
): OutputRepo {
  return {
    async append(executionId, chunks) {
      const checked = checkChunks(executionId, chunks);
      if (checked.length === 0) return;
      // The execution's own expiry when it is stored (absent: kept forever), else the chunk's time.
      const execution = await executions.findOne({ _id: executionId }, { projection: { expireAt: 1 } });
      const executionExpiry: unknown = execution?.['expireAt'];
      const seen = new Set<number>();
      const docs: StoredChunk[] = [];
      for (const { chunk, atMs } of checked) {
        if (seen.has(chunk.seq)) continue; // the first of a repeated seq wins, as on SQLite
        seen.add(chunk.seq);
        const doc: StoredChunk = { _id: `${executionId}:${chunk.seq}`, executionId, ...chunk };
        const expiresMs =
          execution === null
            ? expiryOf(atMs, retention.executionsMs)
            : executionExpiry instanceof Date
              ? executionExpiry.getTime()
              : null;
        if (expiresMs !== null) doc.expireAt = new Date(expiresMs);
        docs.push(doc);
      }
      try {
        await outputs.insertMany(docs, { ordered: false });
      } catch (err) {
        // Chunks already stored (a retried append) stay as they are; the others were inserted.
        if (!onlyDuplicateKeys(err)) throw err;
      }
    },

    async lastSeq(executionId) {
      const last = await outputs.find({ executionId }).sort({ seq: -1 }).limit(1).toArray();
      return last[0]?.seq ?? 0;
    },
    async list(executionId, afterSeq, limit) {
      const docs = await outputs
        .find({ executionId, seq: { $gt: afterSeqOf(afterSeq) } })
        .sort({ seq: 1 })
        .limit(outputLimit(limit))
        .toArray();
      return docs.map((doc): OutputChunk => ({ seq: doc.seq, stream: doc.stream, text: doc.text, at: doc.at }));
    },
  };
}
