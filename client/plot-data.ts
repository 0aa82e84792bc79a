/**
 * The numbers plot() and the dashboard draw: finished calls as points in seconds since the
 * first submit, time bins for the aggregated views (above PER_CALL_LIMIT calls) and the rows
 * of the per-worker view. Pure data, no Vega.
 */
import { type CostReport, formatUsd } from "./cost.ts";
import type { ResponseFuture } from "./response-future.ts";

/** What plot() reads of a call (a ResponseFuture has it all). */
export type PlottedCall = Pick<ResponseFuture, "jobId" | "callId" | "status" | "done" | "stats">;

/** Above this many finished calls the timeline aggregates: a bar per call would be under a pixel high and the SVG megabytes. */
export const PER_CALL_LIMIT = 2000;

/** At most this many rows in the per-worker view; more workers share a row (in order of their first start). */
export const MAX_WORKER_ROWS = 40;

/** The aggregated views cut time into at most this many bins (of 1, 2 or 5 times a power of ten seconds). */
export const MAX_TIME_BINS = 120;

/** A finished call, with times in seconds since the first submit among the calls drawn. */
export interface CallPoint {
  /** The call's index among the futures given to plot(). */
  call: number;
  id: string;
  worker: string;
  failed: boolean;
  submitted: number;
  started: number;
  finished: number;
  /** started - submitted, seconds. */
  queued: number;
  /** finished - started, seconds (measured in the worker). */
  duration: number;
}

export const numberFormat = new Intl.NumberFormat("en-US");

/** "1 call", "100,000 calls": how every picture states its counts. */
export function counted(n: number, noun: string): string {
  return `${numberFormat.format(n)} ${noun}${n === 1 ? "" : "s"}`;
}

export function callPoints(futures: readonly PlottedCall[]): CallPoint[] {
  const finished = futures
    .map((future, call) => ({ future, call }))
    .filter(({ future }) => future.done && future.stats.started !== undefined && future.stats.finished !== undefined);
  // A loop, not Math.min(...): spreading 100,000 arguments overflows the stack.
  let origin = Infinity;
  for (const { future } of finished) origin = Math.min(origin, future.stats.submitted);
  const seconds = (ms: number): number => (ms - origin) / 1000;
  return finished.map(({ future, call }) => {
    const { submitted, started = submitted, finished: end = started, workerId } = future.stats;
    return {
      call,
      id: `${future.jobId}/${future.callId}`,
      worker: workerId ?? "unknown",
      failed: future.status === "error",
      submitted: seconds(submitted),
      // A worker's clock may run a little ahead of the client's: never draw a start before the submit.
      started: seconds(Math.max(started, submitted)),
      finished: seconds(Math.max(end, started, submitted)),
      queued: Math.max(started - submitted, 0) / 1000,
      duration: Math.max(end - started, 0) / 1000,
    };
  });
}

export function lastFinish(points: readonly CallPoint[]): number {
  let last = 0;
  for (const p of points) last = Math.max(last, p.finished);
  return last || 1;
}

/** "on 3 workers; 1 more not finished (not drawn)": the counts a title states besides the calls. */
export function scope(points: readonly CallPoint[], unfinished: number): string {
  const workers = new Set(points.map((p) => p.worker)).size;
  return `on ${counted(workers, "worker")}${unfinished ? `; ${numberFormat.format(unfinished)} more not finished (not drawn)` : ""}`;
}

/** Worker ids up to this long are shown whole. */
export const SHORT_WORKER_ID = 24;

/**
 * Worker ids as legends and rows show them. Long ids that share a start (the replicas of one
 * revision on Azure) lose it up to a separator, so that the entries differ where the ids do
 * instead of all being cut to the same first characters; `note` tells the reader.
 */
export function workerNames(points: readonly CallPoint[]): { name: (id: string) => string; note: string } {
  const ids = [...new Set(points.map((p) => p.worker))];
  const whole = { name: (id: string) => id, note: "" };
  if (ids.length < 2 || ids.every((id) => id.length <= SHORT_WORKER_ID)) return whole;
  let common = ids[0];
  for (const id of ids) while (!id.startsWith(common)) common = common.slice(0, -1);
  const cut = Math.max(...["-", "_", ".", "/"].map((separator) => common.lastIndexOf(separator))) + 1;
  if (cut === 0) return whole;
  return { name: (id) => `…${id.slice(cut)}`, note: `worker ids without their common start ${common.slice(0, cut)}` };
}

export function failedCount(points: readonly CallPoint[]): number {
  return points.reduce((n, p) => n + (p.failed ? 1 : 0), 0);
}

/** A time axis cut into bins; every aggregated value is per bin. */
export interface TimeBins {
  width: number;
  count: number;
}

export function timeBins(end: number): TimeBins {
  const raw = Math.max(end, 0.001) / MAX_TIME_BINS;
  const power = 10 ** Math.floor(Math.log10(raw));
  const width = [1, 2, 5, 10].map((step) => step * power).find((w) => w >= raw * (1 - 1e-9)) ?? 10 * power;
  return { width, count: Math.max(1, Math.ceil(end / width - 1e-9)) };
}

/** Adds to each bin the share of it that [from, to) covers: summed over calls, the mean number of calls in that state during the bin. */
export function spread(into: Float64Array, bins: TimeBins, from: number, to: number): void {
  const first = Math.min(Math.floor(from / bins.width), bins.count - 1);
  const last = Math.min(Math.floor(to / bins.width), bins.count - 1);
  for (let b = first; b <= last; b++) {
    into[b] += Math.max(0, Math.min(to, (b + 1) * bins.width) - Math.max(from, b * bins.width)) / bins.width;
  }
}

/** Calls that reached each state by each bin's end (index k is time k * width; index 0 is the start). */
export function cumulative(times: Iterable<number>, bins: TimeBins): number[] {
  const perBin = new Array<number>(bins.count + 1).fill(0);
  for (const t of times) perBin[Math.min(Math.max(Math.ceil(t / bins.width - 1e-9), 0), bins.count)]++;
  for (let k = 1; k <= bins.count; k++) perBin[k] += perBin[k - 1];
  return perBin;
}

export interface WorkerRow {
  label: string;
  workers: number;
}

/** One row per worker in order of first start or, above MAX_WORKER_ROWS workers, as many neighbours per row as it takes. */
export function workerRows(points: readonly CallPoint[], name: (id: string) => string): { rows: WorkerRow[]; rowOf: Map<string, number> } {
  const firstStart = new Map<string, number>();
  for (const p of points) firstStart.set(p.worker, Math.min(firstStart.get(p.worker) ?? Infinity, p.started));
  const ordered = [...firstStart.keys()].sort((a, b) => (firstStart.get(a) ?? 0) - (firstStart.get(b) ?? 0) || a.localeCompare(b));
  const perRow = Math.ceil(ordered.length / MAX_WORKER_ROWS);
  const rows: WorkerRow[] = [];
  const rowOf = new Map<string, number>();
  for (let i = 0; i < ordered.length; i += perRow) {
    const members = ordered.slice(i, i + perRow);
    for (const worker of members) rowOf.set(worker, rows.length);
    rows.push({ label: members.length === 1 ? name(members[0]) : `workers ${i + 1}-${i + members.length}`, workers: members.length });
  }
  return { rows, rowOf };
}

/** "Estimated cost on Azure Container Apps: $0.0123 (...)": the timeline's last subtitle line. */
export function costLine(cost: CostReport): string {
  const cooldown = cost.computeUsd > 0 ? Math.round((cost.cooldownUsd / cost.computeUsd) * 100) : 0;
  return `Estimated cost on Azure Container Apps: ${formatUsd(cost.usd)} (${numberFormat.format(Math.round(cost.replicaSeconds))} replica-seconds on ${counted(cost.replicas, "replica")}, ${cooldown}% of compute after the last call; ${numberFormat.format(cost.storageRequests)} storage requests; ${cost.prices.region} prices of ${cost.prices.asOf})`;
}
