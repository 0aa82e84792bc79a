import { MapCallError, MapOutputIntegrityError } from "./errors.ts";
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

/**
 * Checks the MAC of the output stored at `key`, read as `bytes`: resolves to why it is
 * refused, or to undefined when it may be read. The call thread asks the worker's main
 * thread, which alone holds the stack's key (worker/call-thread.ts, worker/thread-pool.ts).
 */
export type OutputMacCheck = (key: string, bytes: Uint8Array) => Promise<string | undefined>;

const FIRST_POLL_MS = 25;
const MAX_POLL_MS = 1000;

/**
 * The values of other calls, read from their jobs' status documents once the workers have
 * written them: how a reducer gets the map results without the client downloading them.
 * Each round costs one listing plus one download per newly finished batch. An output whose
 * MAC `checkMac` refuses fails the reducer with MapOutputIntegrityError before any of it is
 * deserialized: blob write access alone cannot feed a reducer values.
 */
export async function readCallResults(container: ContainerClient, ref: CallResultsRef, checkMac: OutputMacCheck): Promise<unknown[]> {
  const values: unknown[] = new Array(ref.count);
  const pending = new Set(ref.batches);
  // A reducer waiting on its map calls frees its worker slot for them, as a nested job's wait does.
  const endWait = nestedWaitHook()?.begin(`the results of job ${ref.executorId}/${ref.jobId}`);
  try {
    await collect(container, ref, checkMac, values, pending);
  } finally {
    endWait?.();
  }
  const missing = values.findIndex((_, index) => !(index in values));
  if (missing !== -1) throw new MapCallError(`call ${ref.jobId}/${callId(ref.first + missing)} has no outcome in its batch's status document`);
  return values;
}

/** Fills `values` from the status documents of the `pending` batches as they appear. */
async function collect(container: ContainerClient, ref: CallResultsRef, checkMac: OutputMacCheck, values: unknown[], pending: Set<number>): Promise<void> {
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
      const bytes = await downloadBytes(container, key);
      const refused = await checkMac(key, bytes);
      if (refused !== undefined) throw new MapOutputIntegrityError(`the reducer refused a map output: ${refused}`);
      // Its MAC checked above, by the thread that holds the key: decoded here without one.
      const output = decodeBatchOutput(bytes, undefined, key);
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
