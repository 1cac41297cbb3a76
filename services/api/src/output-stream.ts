/**
 * Streams an execution's output as Server-Sent Events: what is stored after `after` (or the
 * client's Last-Event-ID) first, then each new batch as runners announce it, then an `end` event
 * with the final status. Event ids are output sequence numbers, so a reconnecting client resumes
 * exactly where it stopped. Works across processes: the store holds the lines, the bus only says "more".
 */
import type { SSEReplyInterface } from '@fastify/sse';
import { decodeJson } from '@reflex/bus';
import { isTerminal, type Execution, type ExecutionStatus } from '@reflex/model';
import type { RouteDeps } from './deps.ts';

/** Safety net behind bus notices (a lost notice only delays lines by this much). */
const POLL_MS = 1000;

export async function streamOutput(deps: RouteDeps, execution: Execution, sse: SSEReplyInterface, after: number): Promise<void> {
  const resume = Number(sse.lastEventId);
  let last = Number.isInteger(resume) && resume > 0 ? resume : after;
  let status: ExecutionStatus = execution.status;
  let chain: Promise<void> = Promise.resolve();
  let ended = false;

  const drain = async (): Promise<void> => {
    for (;;) {
      const chunks = await deps.store.outputs.list(execution.id, last, 1000);
      for (const chunk of chunks) {
        await sse.send({ id: String(chunk.seq), event: chunk.stream, data: { text: chunk.text, at: chunk.at } });
        last = chunk.seq;
      }
      if (chunks.length < 1000) return;
    }
  };
  const finish = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    cleanup();
    await drain();
    await sse.send({ event: 'end', data: { status } });
    sse.close();
  };
  const step = (): void => {
    chain = chain
      .then(async () => {
        if (ended || !sse.isConnected) return;
        await drain();
        if (isTerminal(status)) await finish();
      })
      .catch(() => {
        ended = true;
        cleanup();
        sse.close();
      });
  };

  const subscriptions = [
    deps.bus.subscribe(deps.names.controlSubject(`output.${execution.id}`), () => step()),
    deps.bus.subscribe(deps.names.controlSubject(`executions.${execution.id}`), (_subject, data) => {
      try {
        status = decodeJson<{ status: ExecutionStatus }>(data).status;
      } catch {
        // Unreadable notice: the poll below reads the status from the store.
      }
      step();
    }),
  ];
  const poll = setInterval(() => {
    chain = chain.then(async () => {
      const current = await deps.store.executions.get(execution.id);
      if (current !== null) status = current.status;
    });
    step();
  }, POLL_MS);
  function cleanup(): void {
    clearInterval(poll);
    for (const s of subscriptions) s.unsubscribe();
  }

  sse.keepAlive();
  sse.onClose(() => {
    ended = true;
    cleanup();
  });
  step();
  await chain;
}
