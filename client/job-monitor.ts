import { batchOfOutputKey, batchOfProgressKey, jobPrefix, outputKey, progressKey } from "../protocol/keys.ts";
import { decodeBatchOutput, type BatchProgress } from "../protocol/output.ts";
import type { JobStorage } from "../runtime-model/backend.ts";
import type { ResponseFuture } from "./response-future.ts";

interface WatchedJob {
  executorId: string;
  jobId: string;
  /** Batches whose status document has not been read yet, with their futures. */
  pending: Map<number, ResponseFuture[]>;
  /** The etag of each pending batch's progress blob when last read: only changed ones are read again. */
  progressRead: Map<number, string>;
  /** When progress was last looked for without a listing (a job down to its last batches). */
  progressFetched: number;
  /** A batch and its backup copy (`speculative`), each to the other: the first status document read settles both. */
  twins: Map<number, number>;
}

interface BlobToRead {
  job: WatchedJob;
  key: string;
}

/**
 * With this many pending batches (one), fetching its document beats listing the prefix: one
 * request a poll either way, and none more once it is there. With two, a poll would cost two.
 */
const DIRECT_FETCH_MAX = 1;
const DOWNLOAD_CONCURRENCY = 16;
/** Without a listing, the progress of a job's last batches is fetched at most this often (workers write it at most once a second). */
const DIRECT_PROGRESS_MS = 1000;

/**
 * Learns which calls finished by reading batch status documents: a listing per job per
 * poll (or a direct read when a job has only one batch left), then one download per
 * finished batch. Never one request per call. The same listing shows the progress blobs
 * of running batches (written at most once a second, worker/batch-runner.ts): each one
 * that changed is read, and its calls become `running` or `ready`, so progress follows calls.
 */
export class JobMonitor {
  private readonly jobs = new Map<string, WatchedJob>();
  private refreshing?: Promise<number>;
  /** Storage requests the workers reported for the batches read so far. */
  workerStorageOps = 0;

  /** `signingKey`: what the jobs were signed with; outputs without its MAC are refused (OutputIntegrityError). */
  constructor(
    private readonly storage: JobStorage,
    private readonly signingKey?: string,
  ) {}

  /** Adds futures to watch; a job watched already gets them too (futures of one call may be followed more than once). */
  watch(executorId: string, jobId: string, batches: Map<number, ResponseFuture[]>): void {
    const job = this.jobs.get(`${executorId}/${jobId}`);
    if (!job) {
      this.jobs.set(`${executorId}/${jobId}`, { executorId, jobId, pending: batches, progressRead: new Map(), progressFetched: Date.now(), twins: new Map() });
      return;
    }
    for (const [batch, futures] of batches) job.pending.set(batch, [...(job.pending.get(batch) ?? []), ...futures]);
  }

  /** Watches the pending batch `original`'s futures under `backup` too (client/speculation.ts): whichever status document comes first gives their outcomes. */
  watchBackup(executorId: string, jobId: string, original: number, backup: number): void {
    const job = this.jobs.get(`${executorId}/${jobId}`);
    const futures = job?.pending.get(original);
    if (!job || !futures) return;
    job.pending.set(backup, futures);
    job.twins.set(original, backup).set(backup, original);
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
    const keys: BlobToRead[] = [];
    const progress: (BlobToRead & { batch: number; etag: string })[] = [];
    await Promise.all(
      [...jobKeys].map(async (jobKey) => {
        const job = this.jobs.get(jobKey);
        if (!job || job.pending.size === 0) return;
        if (job.pending.size <= DIRECT_FETCH_MAX) {
          // Batches shorter than a second (tiny calls) write no progress, and cost no progress read either.
          const fetchProgress = Date.now() - job.progressFetched >= DIRECT_PROGRESS_MS;
          if (fetchProgress) job.progressFetched = Date.now();
          for (const batch of job.pending.keys()) {
            keys.push({ job, key: outputKey(job.executorId, job.jobId, batch) });
            if (fetchProgress) progress.push({ job, key: progressKey(job.executorId, job.jobId, batch), batch, etag: "" });
          }
          return;
        }
        for await (const { name, etag } of this.storage.list(jobPrefix(job.executorId, job.jobId))) {
          const batch = batchOfOutputKey(name);
          if (batch !== undefined) {
            if (job.pending.has(batch)) keys.push({ job, key: name });
            continue;
          }
          const running = batchOfProgressKey(name);
          if (running !== undefined && job.pending.has(running) && job.progressRead.get(running) !== etag)
            progress.push({ job, key: name, batch: running, etag });
        }
      }),
    );
    let completed = 0;
    for (let i = 0; i < keys.length; i += DOWNLOAD_CONCURRENCY) {
      const counts = await Promise.all(keys.slice(i, i + DOWNLOAD_CONCURRENCY).map((blob) => this.readBatch(blob)));
      completed += counts.reduce((a, b) => a + b, 0);
    }
    // Batches whose status document was just read need no progress.
    const stillRunning = progress.filter(({ job, batch }) => job.pending.has(batch));
    for (let i = 0; i < stillRunning.length; i += DOWNLOAD_CONCURRENCY) {
      await Promise.all(stillRunning.slice(i, i + DOWNLOAD_CONCURRENCY).map((blob) => this.readProgress(blob)));
    }
    return completed;
  }

  private async readProgress({ job, key, batch, etag }: BlobToRead & { batch: number; etag: string }): Promise<void> {
    const bytes = await this.storage.get(key);
    let progress: BatchProgress;
    try {
      if (!bytes) return;
      progress = JSON.parse(bytes.toString("utf8")) as BatchProgress;
    } catch (error) {
      if (error instanceof SyntaxError) return; // progress is a hint: the status document tells for sure
      throw error;
    }
    job.progressRead.set(batch, etag);
    const futures = job.pending.get(batch);
    if (!futures) return;
    const running = new Set(progress.running);
    const finished = new Set(progress.finished);
    for (const future of futures) {
      if (finished.has(future.callId)) future.progressed("ready");
      else if (running.has(future.callId)) future.progressed("running");
    }
  }

  private async readBatch({ job, key }: BlobToRead): Promise<number> {
    const bytes = await this.storage.get(key);
    if (!bytes) return 0;
    const output = decodeBatchOutput(bytes, this.signingKey, key);
    const futures = job.pending.get(output.batch);
    if (!futures) return 0;
    // The other copy's outcomes, if it has any, are never read: each call is reported once.
    const twin = job.twins.get(output.batch);
    for (const batch of twin === undefined ? [output.batch] : [output.batch, twin]) {
      job.pending.delete(batch);
      job.progressRead.delete(batch);
    }
    this.workerStorageOps += output.storageOps;
    // By call id from the outcomes' side: a call may have more than one future (a followed nested call).
    const outcomes = new Map(output.calls.map((outcome) => [outcome.callId, outcome]));
    const collected = Date.now();
    let completed = 0;
    for (const future of futures) {
      const outcome = outcomes.get(future.callId);
      if (!outcome || !future.complete(outcome, collected)) continue;
      completed += 1;
      if (twin !== undefined) future.stats.speculative = output.batch > twin ? "backup" : "original";
    }
    return completed;
  }
}
