import { backupBatchOf } from "../protocol/backup-batches.ts";
import type { Backend, RuntimeTarget } from "../runtime-model/backend.ts";
import { backupMessage } from "./call-batches.ts";
import type { BilledCall } from "./cost.ts";
import type { JobMonitor } from "./job-monitor.ts";
import type { ResponseFuture } from "./response-future.ts";

/**
 * Backup calls for stragglers (`speculative: true`), decided on the client while it waits,
 * since only it sees every call's duration. The rule, as faast.js's:
 *
 * - a job is considered once at least STRAGGLER_RULE.minFinished of its calls and
 *   STRAGGLER_RULE.minDoneFraction of them have finished;
 * - a call the client has seen running for longer than the finished calls' mean duration plus
 *   STRAGGLER_RULE.deviations standard deviations (and at least STRAGGLER_RULE.minMeanMultiple
 *   times the mean, so that a job of near-identical calls does not back up calls merely a
 *   little late) is a straggler;
 * - a straggler's batch is queued once more, whole (a batch's outcomes are written together),
 *   under a batch number of its own (protocol/backup-batches.ts); whichever copy's status document the client reads first
 *   gives the calls' outcomes, the other is never read (client/job-monitor.ts). Each batch
 *   gets at most one backup.
 *
 * A call's age counts from when the client first saw it running (batch progress, written by
 * batches that run longer than a second): time queued is not straggling.
 */
export const STRAGGLER_RULE = { minFinished: 5, minDoneFraction: 0.5, deviations: 3, minMeanMultiple: 2 } as const;

/** The running time (ms) past which a call of a job is a straggler, or undefined while too few of its `total` calls have finished. */
export function stragglerThreshold(finished: { count: number; sumMs: number; sumSquaresMs: number }, total: number): number | undefined {
  const { count, sumMs, sumSquaresMs } = finished;
  if (count < STRAGGLER_RULE.minFinished || count < total * STRAGGLER_RULE.minDoneFraction) return undefined;
  const mean = sumMs / count;
  const deviation = Math.sqrt(Math.max(0, sumSquaresMs / count - mean * mean));
  return Math.max(mean + STRAGGLER_RULE.deviations * deviation, STRAGGLER_RULE.minMeanMultiple * mean);
}

/**
 * The copy of a backed-up call whose outcome was discarded, for the cost estimate: its status
 * document is never read, so it is billed from when the client knew it ran (the original: first
 * seen running; the backup: queued) until the winner was collected, on a replica of its own
 * (named after the call's batch: on Azure a replica is inferred for it, client/cost.ts).
 */
export function losingCopy(future: ResponseFuture, memory: number): BilledCall | undefined {
  const { copies, speculative, collected } = future.stats;
  if (!copies || !speculative || collected === undefined) return undefined;
  const started = speculative === "backup" ? copies.originalRunning : copies.backupQueued;
  const workerId = `${future.executorId}/${future.jobId}/batch ${future.stats.batch} (${speculative === "backup" ? "original" : "backup"})`;
  return { workerId, started, finished: Math.max(started, collected), memory };
}

/** Where a job's backups go: what submit() had at hand when it queued the job. */
export interface SpeculativeJob {
  jobId: string;
  /** The signed message of each batch, by batch number. */
  messages: readonly string[];
  futuresOfBatch: ReadonlyMap<number, ResponseFuture[]>;
  backend: Backend;
  monitor: JobMonitor;
  target: RuntimeTarget;
  signingKey?: string;
}

interface TrackedJob extends SpeculativeJob {
  total: number;
  /** Calls not finished yet, compacted as they finish: a check costs O(not finished). */
  unfinished: ResponseFuture[];
  finished: { count: number; sumMs: number; sumSquaresMs: number };
  /** When the client first saw each unfinished call running. */
  runningSince: Map<ResponseFuture, number>;
  /** The batches backed up already. */
  backedUp: Set<number>;
}

/** An executor's speculative jobs: each check backs up the stragglers found among them. */
export class Speculation {
  private readonly jobs = new Map<string, TrackedJob>();

  /** Watches a job just queued with `speculative: true`. */
  track(job: SpeculativeJob): void {
    const unfinished = [...job.futuresOfBatch.values()].flat();
    this.jobs.set(`${unfinished[0]?.executorId}/${job.jobId}`, {
      ...job,
      total: unfinished.length,
      unfinished,
      finished: { count: 0, sumMs: 0, sumSquaresMs: 0 },
      runningSince: new Map(),
      backedUp: new Set(),
    });
  }

  /**
   * After a wait's refresh of `refreshed`: takes in what finished and queues a backup of each
   * straggling batch. A tracked job none of whose futures were refreshed (a mapReduce's maps
   * while getResult waits on the reducer alone) is refreshed here, so its stragglers are seen.
   */
  async backUpStragglers(refreshed: readonly ResponseFuture[], now = Date.now()): Promise<void> {
    if (this.jobs.size === 0) return;
    const seen = jobsOf(refreshed);
    for (const [key, job] of this.jobs) {
      if (!seen.has(key) && job.unfinished.length > 0) await job.monitor.refresh(job.unfinished);
      this.account(job, now);
      if (job.unfinished.length === 0) {
        this.jobs.delete(key);
        continue;
      }
      const threshold = stragglerThreshold(job.finished, job.total);
      if (threshold === undefined) continue;
      const batches = new Set<number>();
      for (const [future, since] of job.runningSince) {
        if (now - since > threshold && !job.backedUp.has(future.stats.batch)) batches.add(future.stats.batch);
      }
      for (const batch of batches) await this.queueBackup(job, batch, now);
    }
  }

  /** Moves the calls that finished into the job's duration sums; notes calls seen running for the first time. */
  private account(job: TrackedJob, now: number): void {
    let kept = 0;
    for (const future of job.unfinished) {
      if (!future.done) {
        job.unfinished[kept++] = future;
        if (future.status === "running" && !job.runningSince.has(future)) job.runningSince.set(future, now);
        continue;
      }
      job.runningSince.delete(future);
      const { started, finished } = future.stats;
      if (started === undefined || finished === undefined) continue;
      const ms = finished - started;
      job.finished.count += 1;
      job.finished.sumMs += ms;
      job.finished.sumSquaresMs += ms * ms;
    }
    job.unfinished.length = kept;
  }

  private async queueBackup(job: TrackedJob, batch: number, now: number): Promise<void> {
    const backup = backupBatchOf(batch);
    job.backedUp.add(batch);
    const futures = job.unfinished.filter((future) => future.stats.batch === batch);
    for (const future of futures) future.stats.copies = { originalRunning: job.runningSince.get(future) ?? now, backupQueued: now };
    job.monitor.watchBackup(futures[0].executorId, job.jobId, batch, backup);
    await job.backend.send(job.target, [backupMessage(job.messages[batch], backup, job.signingKey)]);
  }
}

/** The `executorId/jobId` keys of the futures, scanned by runs (a job's futures come together). */
function jobsOf(futures: readonly ResponseFuture[]): Set<string> {
  const keys = new Set<string>();
  let last: ResponseFuture | undefined;
  for (const future of futures) {
    if (last && future.jobId === last.jobId && future.executorId === last.executorId) continue;
    keys.add(`${future.executorId}/${future.jobId}`);
    last = future;
  }
  return keys;
}
