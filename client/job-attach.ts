import { isCallCancelled } from "../protocol/job-cancel.ts";
import { callId } from "../protocol/keys.ts";
import type { RunningBackend } from "./backend-session.ts";
import { cancelledOutcome, readCancelMarker } from "./job-cancel.ts";
import { listJobIds, readManifest } from "./job-manifest.ts";
import { type FutureStats, newStats, type ResponseFuture } from "./response-future.ts";

/**
 * FunctionExecutor.attach's work: the futures of jobs another client submitted, made from
 * the jobs' manifests (every job of `executorId` without jobIds) and watched by the
 * backend's monitor; the runtime's workers are poked for what is still queued. Calls the
 * job's cancel marker names one by one (the unfinished calls of a program that was closed or
 * interrupted, or that cancelled them) are settled as cancelled at once, as that program settled
 * them; a whole-job cancel (`lithops-aca job cancel`) may have come after some calls
 * finished, so those calls are left to what their workers report.
 */
export async function attachJobs(
  { backend, monitor }: RunningBackend,
  executorId: string,
  jobIds: readonly string[] | undefined,
  makeFuture: (jobId: string, callId: string, fromMap: boolean, stats: FutureStats) => ResponseFuture,
): Promise<ResponseFuture[]> {
  const ids = jobIds ?? (await listJobIds(backend.jobs, executorId));
  const manifests = await Promise.all(ids.map((jobId) => readManifest(backend.jobs, executorId, jobId)));
  const cancelMarkers = await Promise.all(ids.map((jobId) => readCancelMarker(backend.jobs, executorId, jobId)));
  const attached: ResponseFuture[] = [];
  for (const [index, manifest] of manifests.entries()) {
    const batches = new Map<number, ResponseFuture[]>();
    for (const [batch, first, count] of manifest.batches) {
      const batchFutures = Array.from({ length: count }, (_, i) =>
        makeFuture(manifest.jobId, callId(first + i), manifest.fromMap, newStats(manifest.submitted, batch, 0)),
      );
      batches.set(batch, batchFutures);
      attached.push(...batchFutures);
    }
    const cancelMarker = cancelMarkers[index];
    const now = Date.now();
    for (const future of [...batches.values()].flat())
      if (cancelMarker && "calls" in cancelMarker && isCallCancelled(cancelMarker, future.callId))
        future.complete(cancelledOutcome(executorId, manifest.jobId, future.callId, now), now);
    monitor.watch(executorId, manifest.jobId, batches);
    // Workers for what is still queued: sending no message makes the local scaler look at the queue now.
    await backend.send(await backend.prepareRuntime(manifest.runtime, manifest.memory, manifest.queue), []);
  }
  return attached;
}
