/**
 * What the dashboard page shows, computed on the server from a list of calls: counts by
 * state, a timeline (a bar per call up to PER_CALL_LIMIT started calls, else time bins as
 * plot() aggregates), throughput, per-worker rows, failures, recent calls and the cost.
 * The page receives this as JSON once a second: its size stays bounded at any job size.
 */
import type { CostReport } from "../cost.ts";
import { MAX_WORKER_ROWS, PER_CALL_LIMIT, spread, timeBins } from "../plot-data.ts";

export type CallState = "queued" | "running" | "done" | "failed";

/** A call as a data source reports it (times epoch ms). */
export interface DashboardCall {
  executorId: string;
  jobId: string;
  callId: string;
  state: CallState;
  submitted: number;
  started?: number;
  finished?: number;
  workerId?: string;
  /** The runtime memory (MB) of the call's job: its cost. */
  memory: number;
  error?: { name: string; message: string; stack?: string };
}

/** The failures listed with their stacks; the count says how many more there are. */
const MAX_FAILURES = 50;
/** Calls listed as "recent" (with their logs a click away). */
const RECENT_CALLS = 25;

export interface Snapshot {
  title: string;
  /** Epoch ms of the snapshot; times below are seconds since `origin` (the first submit). */
  now: number;
  origin: number;
  counts: Record<CallState, number> & { total: number };
  jobs: { executorId: string; jobId: string; calls: number; done: number; failed: number }[];
  timeline:
    | {
        mode: "calls";
        calls: { row: number; executorId: string; jobId: string; callId: string; worker: string; start: number; end: number; state: CallState }[];
      }
    | { mode: "bins"; binSeconds: number; bins: { t: number; running: number }[] };
  /** Calls finished per second in each bin. */
  throughput: { binSeconds: number; bins: { t: number; perSecond: number }[] };
  workers: { worker: string; calls: number; failed: number; running: number; busySeconds: number }[];
  failures: { executorId: string; jobId: string; callId: string; name: string; message: string; stack?: string }[];
  failureCount: number;
  recent: { executorId: string; jobId: string; callId: string; state: CallState; worker: string; seconds: number }[];
  cost?: CostReport;
  costError?: string;
}

export function buildSnapshot(title: string, calls: readonly DashboardCall[], cost: CostReport | string | undefined, now = Date.now()): Snapshot {
  const counts = { queued: 0, running: 0, done: 0, failed: 0, total: calls.length };
  // Loops, not Math.min(...spread): 100,000 arguments overflow the stack.
  let origin = Infinity;
  let end = 0;
  let started = 0;
  const jobs = new Map<string, Snapshot["jobs"][number]>();
  for (const call of calls) {
    counts[call.state] += 1;
    origin = Math.min(origin, call.submitted);
    end = Math.max(end, call.finished ?? (call.started === undefined ? call.submitted : now));
    if (call.started !== undefined) started += 1;
    const key = `${call.executorId}/${call.jobId}`;
    const job = jobs.get(key) ?? { executorId: call.executorId, jobId: call.jobId, calls: 0, done: 0, failed: 0 };
    job.calls += 1;
    if (call.state === "done") job.done += 1;
    if (call.state === "failed") job.failed += 1;
    jobs.set(key, job);
  }
  if (origin === Infinity) origin = now;
  const seconds = (ms: number): number => Math.max(0, ms - origin) / 1000;
  const span = Math.max(seconds(end), 0.001);
  const bins = timeBins(span);
  const ranOn = (call: DashboardCall): [number, number] | undefined =>
    call.started === undefined ? undefined : [seconds(call.started), seconds(call.finished ?? (call.state === "running" ? now : call.started))];

  const finishedPerBin = new Float64Array(bins.count);
  const runningPerBin = new Float64Array(bins.count);
  const workers = new Map<string, Snapshot["workers"][number]>();
  for (const call of calls) {
    const ran = ranOn(call);
    if (!ran) continue;
    if (call.finished !== undefined) finishedPerBin[Math.min(bins.count - 1, Math.floor(ran[1] / bins.width))] += 1;
    spread(runningPerBin, bins, ran[0], ran[1]);
    const name = call.workerId ?? "unknown";
    const worker = workers.get(name) ?? { worker: name, calls: 0, failed: 0, running: 0, busySeconds: 0 };
    worker.calls += 1;
    if (call.state === "failed") worker.failed += 1;
    if (call.state === "running") worker.running += 1;
    worker.busySeconds += ran[1] - ran[0];
    workers.set(name, worker);
  }
  const t = (k: number): number => Number((k * bins.width).toPrecision(12));

  let timeline: Snapshot["timeline"];
  if (started <= PER_CALL_LIMIT) {
    const rows: Extract<Snapshot["timeline"], { mode: "calls" }>["calls"] = [];
    calls.forEach((call, row) => {
      const ran = ranOn(call);
      if (ran) {
        const { executorId, jobId, callId, state } = call;
        rows.push({ row, executorId, jobId, callId, worker: call.workerId ?? "unknown", start: ran[0], end: ran[1], state });
      }
    });
    timeline = { mode: "calls", calls: rows };
  } else {
    timeline = { mode: "bins", binSeconds: bins.width, bins: Array.from(runningPerBin, (running, k) => ({ t: t(k), running })) };
  }

  const failures: Snapshot["failures"] = [];
  const recent: Snapshot["recent"] = [];
  for (let i = calls.length - 1; i >= 0; i--) {
    const call = calls[i];
    if (call.state === "failed" && failures.length < MAX_FAILURES) {
      failures.push({
        executorId: call.executorId,
        jobId: call.jobId,
        callId: call.callId,
        ...(call.error ?? { name: "Error", message: "(no error details)" }),
      });
    }
  }
  failures.reverse();
  // The last RECENT_CALLS to finish, kept sorted as the calls go by: no sort of 100,000 calls twice a second.
  const latest: DashboardCall[] = [];
  for (const call of calls) {
    if (call.finished === undefined || (latest.length === RECENT_CALLS && call.finished <= (latest.at(-1)?.finished ?? 0))) continue;
    let at = latest.length;
    while (at > 0 && (latest[at - 1].finished ?? 0) < call.finished) at--;
    latest.splice(at, 0, call);
    if (latest.length > RECENT_CALLS) latest.pop();
  }
  for (const call of latest) {
    recent.push({
      executorId: call.executorId,
      jobId: call.jobId,
      callId: call.callId,
      state: call.state,
      worker: call.workerId ?? "unknown",
      seconds: ((call.finished ?? 0) - (call.started ?? call.finished ?? 0)) / 1000,
    });
  }

  const workerList = [...workers.values()].sort((a, b) => b.calls - a.calls || a.worker.localeCompare(b.worker));
  return {
    title,
    now,
    origin,
    counts,
    jobs: [...jobs.values()],
    timeline,
    throughput: { binSeconds: bins.width, bins: Array.from(finishedPerBin, (n, k) => ({ t: t(k), perSecond: n / bins.width })) },
    workers: workerList.slice(0, MAX_WORKER_ROWS),
    failures,
    failureCount: counts.failed,
    recent,
    ...(typeof cost === "string" ? { costError: cost } : { cost }),
  };
}
