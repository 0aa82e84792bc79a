import { MapCallError } from "./errors.ts";
import { setTimeout as sleep } from "node:timers/promises";
import type { ContainerClient } from "@azure/storage-blob";
import { originalBatchOf } from "../protocol/backup-batches.ts";
import type { CallResultsRef } from "../protocol/call-refs.ts";
import { decodeValue } from "../protocol/data-codec.ts";
import { batchOfOutputKey, callId, outputKey, outputPrefix } from "../protocol/keys.ts";
import { nestedWaitHook } from "../protocol/nested-wait.ts";
import { nextPollDelay } from "../protocol/polling.ts";
import { decodeBatchOutput } from "../protocol/output.ts";
import { downloadBytes } from "../azure/storage-connection.ts";

const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 1000;

/**
 * The values of other calls, read from their jobs' status documents once the workers have
 * written them: how a reducer gets the map results without the client downloading them.
 * Each round costs one listing plus one download per newly finished batch.
 */
export async function readCallResults(container: ContainerClient, ref: CallResultsRef): Promise<unknown[]> {
  const values: unknown[] = new Array(ref.count);
  const pending = new Set(ref.batches);
  // A reducer waiting on its map calls frees its worker slot for them, as a nested job's wait does.
  const endWait = nestedWaitHook()?.begin(`the results of job ${ref.executorId}/${ref.jobId}`);
  try {
    await collect(container, ref, values, pending);
  } finally {
    endWait?.();
  }
  const missing = values.findIndex((_, index) => !(index in values));
  if (missing !== -1) throw new MapCallError(`call ${ref.jobId}/${callId(ref.first + missing)} has no outcome in its batch's status document`);
  return values;
}

/** Fills `values` from the status documents of the `pending` batches as they appear. */
async function collect(container: ContainerClient, ref: CallResultsRef, values: unknown[], pending: Set<number>): Promise<void> {
  let lastProgress = Date.now();
  while (pending.size > 0) {
    const finished: number[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: outputPrefix(ref.executorId, ref.jobId) })) {
      const batch = batchOfOutputKey(blob.name);
      // A backup copy's document (`speculative`) stands for its original batch: the first one read is used.
      if (batch !== undefined && pending.has(originalBatchOf(batch))) finished.push(batch);
    }
    for (const batch of finished) {
      if (!pending.has(originalBatchOf(batch))) continue;
      const key = outputKey(ref.executorId, ref.jobId, batch);
      // Framed as every status document is (protocol/output.ts). Its MAC is not checked here: the
      // reducer's thread holds only its own call key, which cannot check the maps' (the stack's).
      const output = decodeBatchOutput(await downloadBytes(container, key), undefined, key);
      for (const outcome of output.calls) {
        const index = Number(outcome.callId) - ref.first;
        if (index < 0 || index >= ref.count) continue;
        if (!outcome.ok) {
          throw new MapCallError(
            `call ${ref.jobId}/${outcome.callId} failed (${outcome.error.name}: ${outcome.error.message}), so its results cannot be reduced`,
          );
        }
        values[index] = decodeValue(outcome.result);
      }
      pending.delete(originalBatchOf(batch));
    }
    if (pending.size === 0) break;
    // Back off while no batch finishes, poll fast again when they do (protocol/polling.ts).
    if (finished.length > 0) lastProgress = Date.now();
    await sleep(nextPollDelay(Date.now() - lastProgress, { minMs: FIRST_POLL_MS, maxMs: MAX_POLL_MS, fraction: 0.25 }));
  }
}
