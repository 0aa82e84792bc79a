import type { CostReport } from "../cost.ts";
import type { DashboardCall } from "./snapshot.ts";

/** Where a dashboard's calls come from: a live executor's futures, or job documents in storage. */
export interface DashboardSource {
  readonly title: string;
  /** Every call as it stands now, in call order. */
  calls(): Promise<DashboardCall[]>;
  /** A finished call's captured console output; undefined when the call is unknown or not finished. */
  logs(executorId: string, jobId: string, callId: string): Promise<string | undefined>;
  /** The cost so far of the calls just read. */
  cost(calls: readonly DashboardCall[]): Promise<CostReport>;
}
