import { decodeBatchOutput, type BatchOutput, type BatchProgress, type CallOutcome } from "../../protocol/output.ts";
import { batchOfOutputKey, batchOfProgressKey, callId as callIdOf, jobPrefix, outputKey } from "../../protocol/keys.ts";
import type { JobStorage } from "../../runtime-model/backend.ts";
import { estimateCost, type Prices } from "../cost.ts";
import { type JobManifest, listJobIds, readManifest } from "../job-manifest.ts";
import type { DashboardSource } from "./source.ts";
import type { DashboardCall } from "./snapshot.ts";

/** Documents read at once. */
const READ_CONCURRENCY = 16;

/** What a status document tells of one call (its logs stay in storage until asked for). */
interface Outcome {
  ok: boolean;
  started: number;
  finished: number;
  workerId: string;
  error?: { name: string; message: string; stack?: string };
}

interface JobState {
  manifest: JobManifest;
  /** Outcomes by call id, from the status documents read so far. */
  outcomes: Map<string, Outcome>;
  /** Batches whose status document was read. */
  batchesRead: Set<number>;
  /** Running batches' progress: the etag last read, and the calls it named running. */
  progress: Map<number, { etag: string; running: Set<string> }>;
}

export interface StorageSourceOptions {
  /** Seconds an idle replica runs before it is scaled in: the inferred replica lifetimes' tail. */
  cooldownSeconds: number;
  prices: Prices;
}

/**
 * The dashboard of an executor's jobs read from storage alone, as another process sees
 * them: the job manifests (client/job-manifest.ts) say which calls exist, the batch status
 * documents how each finished, the progress documents which are running (as
 * client/job-monitor.ts reads them). A status document never changes once written, so
 * each is read once; each refresh is a listing per unfinished job plus the new documents.
 */
export class StorageSource implements DashboardSource {
  readonly title: string;
  private readonly jobs = new Map<string, JobState>();
  /** Storage requests the workers reported in the status documents read. */
  private workerRequests = 0;

  constructor(
    private readonly storage: JobStorage,
    private readonly executorId: string,
    private readonly options: StorageSourceOptions,
  ) {
    this.title = `executor ${executorId} (from storage)`;
  }

  async calls(): Promise<DashboardCall[]> {
    for (const jobId of await listJobIds(this.storage, this.executorId)) {
      if (!this.jobs.has(jobId)) {
        this.jobs.set(jobId, {
          manifest: await readManifest(this.storage, this.executorId, jobId),
          outcomes: new Map(),
          batchesRead: new Set(),
          progress: new Map(),
        });
      }
    }
    await Promise.all([...this.jobs.values()].map((job) => this.refreshJob(job)));
    const calls: DashboardCall[] = [];
    for (const job of this.jobs.values()) calls.push(...this.jobCalls(job));
    return calls;
  }

  async logs(executorId: string, jobId: string, callId: string): Promise<string | undefined> {
    const job = this.jobs.get(jobId);
    if (executorId !== this.executorId || !job) return undefined;
    const index = Number(callId);
    const batch = job.manifest.batches.find(([, first, count]) => index >= first && index < first + count);
    if (!batch || !job.batchesRead.has(batch[0])) return undefined;
    const output = await this.readOutput(outputKey(this.executorId, jobId, batch[0]));
    return output?.calls.find((outcome) => outcome.callId === callId)?.logs ?? "";
  }

  async cost(calls: readonly DashboardCall[]) {
    return estimateCost({
      calls,
      cooldownSeconds: this.options.cooldownSeconds,
      // The submitting client's own requests are not in storage: only the workers' are counted.
      storageRequests: { client: 0, workers: this.workerRequests },
      prices: this.options.prices,
    });
  }

  private async refreshJob(job: JobState): Promise<void> {
    const { manifest } = job;
    if (job.batchesRead.size === manifest.batches.length) return;
    const outputs: number[] = [];
    const progress: { batch: number; key: string; etag: string }[] = [];
    for await (const { name, etag } of this.storage.list(jobPrefix(this.executorId, manifest.jobId))) {
      const batch = batchOfOutputKey(name);
      if (batch !== undefined) {
        if (!job.batchesRead.has(batch)) outputs.push(batch);
        continue;
      }
      const running = batchOfProgressKey(name);
      if (running !== undefined && job.progress.get(running)?.etag !== etag) progress.push({ batch: running, key: name, etag });
    }
    await inChunks(outputs, async (batch) => {
      const output = await this.readOutput(outputKey(this.executorId, manifest.jobId, batch));
      if (!output || job.batchesRead.has(batch)) return;
      job.batchesRead.add(batch);
      job.progress.delete(batch);
      this.workerRequests += output.storageOps;
      for (const outcome of output.calls) job.outcomes.set(outcome.callId, outcomeOf(outcome));
    });
    await inChunks(progress, async ({ batch, key, etag }) => {
      if (job.batchesRead.has(batch)) return;
      const bytes = await this.storage.get(key);
      if (!bytes) return;
      try {
        const read = JSON.parse(bytes.toString("utf8")) as BatchProgress;
        job.progress.set(batch, { etag, running: new Set(read.running.concat(read.finished)) });
      } catch {
        // A progress document is a hint: the status document tells for sure.
      }
    });
  }

  private *jobCalls(job: JobState): Iterable<DashboardCall> {
    const { manifest } = job;
    for (const [batch, first, count] of manifest.batches) {
      const running = job.progress.get(batch)?.running;
      for (let index = first; index < first + count; index++) {
        const id = callIdOf(index);
        const outcome = job.outcomes.get(id);
        const base = { executorId: this.executorId, jobId: manifest.jobId, callId: id, submitted: manifest.submitted, memory: manifest.memory };
        if (outcome) {
          yield {
            ...base,
            state: outcome.ok ? "done" : "failed",
            started: outcome.started,
            finished: outcome.finished,
            workerId: outcome.workerId,
            error: outcome.error,
          };
        } else yield { ...base, state: running?.has(id) ? "running" : "queued" };
      }
    }
  }

  private async readOutput(key: string): Promise<BatchOutput | undefined> {
    const bytes = await this.storage.get(key);
    return bytes && decodeBatchOutput(bytes, undefined, key); // shown, not used: not checked against the key
  }
}

function outcomeOf(outcome: CallOutcome): Outcome {
  const { started, finished, workerId } = outcome.stats;
  return outcome.ok
    ? { ok: true, started, finished, workerId }
    : { ok: false, started, finished, workerId, error: { name: outcome.error.name, message: outcome.error.message, stack: outcome.error.stack } };
}

async function inChunks<T>(items: readonly T[], each: (item: T) => Promise<void>): Promise<void> {
  for (let i = 0; i < items.length; i += READ_CONCURRENCY) await Promise.all(items.slice(i, i + READ_CONCURRENCY).map(each));
}
