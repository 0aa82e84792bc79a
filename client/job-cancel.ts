import { REMOTE_ERROR_NAMES } from "../protocol/errors.ts";
import { addToCancelMarker, type CancelMarker, cancelledMessage, encodeCancelMarker, parseCancelMarker } from "../protocol/job-cancel.ts";
import { cancelMarkerKey } from "../protocol/keys.ts";
import type { CallOutcome } from "../protocol/output.ts";
import type { JobStorage } from "../runtime-model/backend.ts";
import type { ResponseFuture } from "./response-future.ts";

/**
 * Cancels calls of a job (`callIds` undefined: all of them) by writing its cancel marker
 * (protocol/job-cancel.ts) on top of what was cancelled before: workers start none of them
 * and stop those running (worker/cancel-watch.ts). Used by FunctionExecutor.cancel and
 * `lithops-aca job cancel`.
 */
export async function cancelJobCalls(jobs: JobStorage, executorId: string, jobId: string, callIds?: readonly string[]): Promise<void> {
  const existing = await readCancelMarker(jobs, executorId, jobId);
  await jobs.put(cancelMarkerKey(executorId, jobId), encodeCancelMarker(addToCancelMarker(existing, callIds)));
}

/** The job's cancel marker, if any of its calls were cancelled. */
export async function readCancelMarker(jobs: JobStorage, executorId: string, jobId: string): Promise<CancelMarker | undefined> {
  const key = cancelMarkerKey(executorId, jobId);
  const bytes = await jobs.get(key);
  return bytes ? parseCancelMarker(bytes, key) : undefined;
}

/** The outcome a cancelling client gives its own futures at once, without waiting for a worker to report. */
export function cancelledOutcome(executorId: string, jobId: string, callId: string, now = Date.now()): CallOutcome {
  return {
    callId,
    ok: false,
    error: { name: REMOTE_ERROR_NAMES.cancelled, message: cancelledMessage(executorId, jobId) },
    stats: { started: now, finished: now, workerId: "(cancelled by the client)", attempt: 0, resultBytes: 0 },
  };
}

/** Cancels the futures' calls (writing each job's marker once) and settles them as cancelled. */
export async function cancelFutures(jobs: JobStorage, futures: readonly ResponseFuture[]): Promise<void> {
  const byJob = new Map<string, ResponseFuture[]>();
  for (const future of futures) {
    const key = `${future.executorId}/${future.jobId}`;
    byJob.set(key, [...(byJob.get(key) ?? []), future]);
  }
  await Promise.all(
    [...byJob.values()].map(async (jobFutures) => {
      const { executorId, jobId } = jobFutures[0];
      await cancelJobCalls(
        jobs,
        executorId,
        jobId,
        jobFutures.map((f) => f.callId),
      );
      const now = Date.now();
      for (const future of jobFutures) future.complete(cancelledOutcome(executorId, jobId, future.callId, now), now);
    }),
  );
}
