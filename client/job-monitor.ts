import type { ContainerClient } from "@azure/storage-blob";
import { decodeValue } from "../protocol/data-codec.ts";
import { batchOfOutputKey, outputKey, outputPrefix } from "../protocol/keys.ts";
import type { BatchOutput } from "../protocol/output.ts";
import { downloadBytes, isNotFound } from "../azure/storage-connection.ts";
import type { ResponseFuture } from "./response-future.ts";

interface WatchedJob {
  executorId: string;
  jobId: string;
  /** Batches whose status document has not been read yet, with their futures. */
  pending: Map<number, ResponseFuture[]>;
}

/** Up to this many pending batches, fetching each expected document beats listing the prefix. */
const DIRECT_FETCH_MAX = 2;
const DOWNLOAD_CONCURRENCY = 16;

/**
 * Learns which calls finished by reading batch status documents: a listing per job per
 * poll (or a direct read when a job has only a batch or two left), then one download per
 * finished batch. Never one request per call.
 */
export class JobMonitor {
  private readonly jobs = new Map<string, WatchedJob>();
  private refreshing?: Promise<number>;
  /** Storage requests the workers reported for the batches read so far. */
  workerStorageOps = 0;

  constructor(private readonly container: ContainerClient) {}

  /** Adds futures to watch; a job watched already gets them too (futures of one call may be followed more than once). */
  watch(executorId: string, jobId: string, batches: Map<number, ResponseFuture[]>): void {
    const job = this.jobs.get(`${executorId}/${jobId}`);
    if (!job) {
      this.jobs.set(`${executorId}/${jobId}`, { executorId, jobId, pending: batches });
      return;
    }
    for (const [batch, futures] of batches) job.pending.set(batch, [...(job.pending.get(batch) ?? []), ...futures]);
  }

  /** Reads what finished since the last refresh; returns how many calls completed. Concurrent callers share one refresh. */
  refresh(futures: readonly ResponseFuture[]): Promise<number> {
    this.refreshing ??= this.readOutputs(futures).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async readOutputs(futures: readonly ResponseFuture[]): Promise<number> {
    // A job's futures come in runs: one key per run, not a string per future on every poll.
    const jobKeys = new Set<string>();
    let last: ResponseFuture | undefined;
    for (const f of futures) {
      if (f.done || (last && f.jobId === last.jobId && f.executorId === last.executorId)) continue;
      jobKeys.add(`${f.executorId}/${f.jobId}`);
      last = f;
    }
    const keys: { job: WatchedJob; key: string }[] = [];
    await Promise.all(
      [...jobKeys].map(async (jobKey) => {
        const job = this.jobs.get(jobKey);
        if (!job || job.pending.size === 0) return;
        if (job.pending.size <= DIRECT_FETCH_MAX) {
          for (const batch of job.pending.keys()) keys.push({ job, key: outputKey(job.executorId, job.jobId, batch) });
          return;
        }
        for await (const blob of this.container.listBlobsFlat({ prefix: outputPrefix(job.executorId, job.jobId) })) {
          const batch = batchOfOutputKey(blob.name);
          if (batch !== undefined && job.pending.has(batch)) keys.push({ job, key: blob.name });
        }
      }),
    );
    let completed = 0;
    for (let i = 0; i < keys.length; i += DOWNLOAD_CONCURRENCY) {
      const counts = await Promise.all(keys.slice(i, i + DOWNLOAD_CONCURRENCY).map(({ job, key }) => this.readBatch(job, key)));
      completed += counts.reduce((a, b) => a + b, 0);
    }
    return completed;
  }

  private async readBatch(job: WatchedJob, key: string): Promise<number> {
    let bytes: Buffer;
    try {
      bytes = await downloadBytes(this.container, key);
    } catch (error) {
      if (isNotFound(error)) return 0;
      throw error;
    }
    const output = decodeValue(bytes) as BatchOutput;
    const futures = job.pending.get(output.batch);
    if (!futures) return 0;
    job.pending.delete(output.batch);
    this.workerStorageOps += output.storageOps;
    // By call id from the outcomes' side: a call may have more than one future (a followed nested call).
    const outcomes = new Map(output.calls.map((outcome) => [outcome.callId, outcome]));
    const collected = Date.now();
    let completed = 0;
    for (const future of futures) {
      const outcome = outcomes.get(future.callId);
      if (outcome && future.complete(outcome, collected)) completed += 1;
    }
    return completed;
  }
}
