import { BlobJobStorage } from "../runtime-model/storage-account-backend.ts";
import { cancelJobCalls } from "../client/job-cancel.ts";
import { listJobIds, readManifest } from "../client/job-manifest.ts";
import type { CliIO } from "../deploy/run-plan.ts";
import type { CliContext } from "./commands.ts";
import { JobCancelError } from "./errors.ts";
import { parseJobSelector, withJobContainer } from "./logs.ts";
import type { CliRequest } from "./main.ts";

/**
 * `lithops-aca job cancel <executorId>[/<jobId>]`: what fexec.cancel() does, from another
 * process, on either backend: each job's cancel marker is written (client/job-cancel.ts), so
 * workers start none of its calls and stop those running; the submitting program's futures
 * then reject with CallCancelledError.
 */
export async function runJobCancel(request: Extract<CliRequest, { command: "job cancel" }>, context: CliContext, io: CliIO): Promise<void> {
  const { executorId, jobId } = parseJobSelector(request.job);
  await withJobContainer(request, context, async (_container, clients) => {
    const jobs = new BlobJobStorage(clients);
    const ids = jobId === undefined ? await listJobIds(jobs, executorId) : [(await readManifest(jobs, executorId, jobId)).jobId];
    if (ids.length === 0) {
      throw new JobCancelError(
        `no jobs of executor ${executorId} in storage: check the id (futures and errors name jobs as <executorId>/<jobId>) and the backend (-b)`,
      );
    }
    for (const id of ids) {
      await cancelJobCalls(jobs, executorId, id);
      io.out(`cancelled ${executorId}/${id}: its queued calls will not start, running ones are stopped at their worker's next check (seconds)`);
    }
  });
}
