import type { CostReport } from "../cost.ts";
import { ALWAYS } from "../options.ts";
import type { ResponseFuture } from "../response-future.ts";
import type { DashboardSource } from "./source.ts";
import type { CallState, DashboardCall } from "./snapshot.ts";

/** What the live source needs of a FunctionExecutor. */
export interface WatchedExecutor {
  readonly executorId: string;
  allFutures(): readonly ResponseFuture[];
  wait(fs: undefined, options: { returnWhen: typeof ALWAYS; throwExcept: false }): Promise<unknown>;
  cost(): Promise<CostReport>;
}

const STATES: Record<ResponseFuture["status"], CallState> = { invoked: "queued", running: "running", ready: "running", success: "done", error: "failed" };

function dashboardCall(future: ResponseFuture): DashboardCall {
  const { submitted, started, finished, workerId } = future.stats;
  const error = future.failed ? future.error() : undefined;
  return {
    executorId: future.executorId,
    jobId: future.jobId,
    callId: future.callId,
    state: STATES[future.status],
    submitted,
    started,
    finished,
    workerId,
    memory: 0,
    error: error && { name: error.name, message: error.message, stack: error.remoteStack },
  };
}

/**
 * The dashboard of a live executor: its futures as they stand. Each read first refreshes
 * them (one poll of the executor's job monitor, shared with any wait in progress), so the
 * page moves even while the program is not waiting.
 */
export function liveSource(fexec: WatchedExecutor): DashboardSource {
  return {
    title: `executor ${fexec.executorId}`,
    async calls() {
      await fexec.wait(undefined, { returnWhen: ALWAYS, throwExcept: false });
      return fexec.allFutures().map(dashboardCall);
    },
    async logs(executorId, jobId, callId) {
      const future = fexec.allFutures().find((f) => f.callId === callId && f.jobId === jobId && f.executorId === executorId);
      return future?.done ? future.logs() : undefined;
    },
    cost: () => fexec.cost(),
  };
}
