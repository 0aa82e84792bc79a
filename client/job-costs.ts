import type { ExecutionBackend, JobStorage } from "../runtime-model/backend.ts";
import type { ExecutorConfig } from "./config.ts";
import { type BilledCall, type CostReport, DEFAULT_AZURE_COOLDOWN_SECONDS, estimateCost, pricesFrom } from "./cost.ts";
import { readManifest } from "./job-manifest.ts";
import { losingCopy } from "./speculation.ts";
import type { CallPricing } from "./job-summary.ts";
import type { ResponseFuture } from "./response-future.ts";

/** What an executor's cost estimate reads: its settings, its storage account backend and its storage request counts. */
export interface CostedExecutor {
  readonly config: ExecutorConfig;
  storageOperations(): { client: number; workers: number };
}

/**
 * An executor's costs (`fexec.cost()`, jobSummary's cost columns): the runtime memory of each
 * job comes from its manifest (read once per job), replica lifetimes from the backend where
 * it records them (local) or from the calls' stats (Azure, with the runtime's cooldown).
 */
export class JobCosts {
  private readonly memories = new Map<string, Promise<number | undefined>>();

  constructor(private readonly jobs: () => Promise<JobStorage>) {}

  /** Prices and each future's runtime memory, for jobSummary's rows. */
  async pricing(futures: readonly ResponseFuture[], config: ExecutorConfig): Promise<CallPricing> {
    const known = await this.memoriesOf(futures);
    return { prices: pricesFrom(config.cost), memoryOf: (future) => known.get(jobKey(future)) };
  }

  async report(executor: CostedExecutor, futures: readonly ResponseFuture[], all: boolean, account?: ExecutionBackend): Promise<CostReport> {
    const { config } = executor;
    const known = await this.memoriesOf(futures);
    const calls: BilledCall[] = futures.flatMap((future) => {
      const memory = known.get(jobKey(future)) ?? config.runtimeMemory;
      const other = losingCopy(future, memory); // `speculative`: both copies of a backed-up call ran
      return other ? [{ ...future.stats, memory }, other] : [{ ...future.stats, memory }];
    });
    return estimateCost({
      calls,
      lifetimes: account?.replicaLifetimes?.(),
      onlyReplicasOfCalls: !all,
      cooldownSeconds: config.backend === "local" ? config.local.cooldown : (config.cost.cooldown_seconds ?? DEFAULT_AZURE_COOLDOWN_SECONDS),
      storageRequests: executor.storageOperations(),
      prices: pricesFrom(config.cost),
    });
  }

  private async memoriesOf(futures: readonly ResponseFuture[]): Promise<Map<string, number | undefined>> {
    const keys = new Map<string, ResponseFuture>();
    for (const future of futures) if (!keys.has(jobKey(future))) keys.set(jobKey(future), future);
    const entries = await Promise.all(
      [...keys].map(async ([key, future]) => {
        let memory = this.memories.get(key);
        if (!memory) {
          // A job without a manifest (cleaned, or a nested job's) is billed at the executor's memory by the caller.
          memory = this.jobs().then((jobs) =>
            readManifest(jobs, future.executorId, future.jobId).then(
              (m) => m.memory,
              () => undefined,
            ),
          );
          this.memories.set(key, memory);
        }
        return [key, await memory] as const;
      }),
    );
    return new Map(entries);
  }
}

function jobKey(future: ResponseFuture): string {
  return `${future.executorId}/${future.jobId}`;
}
