/**
 * `fexec.jobSummary()`: one row per call with its timings, sizes and estimated cost on Azure
 * Container Apps (its run time at its runtime's cpu/memory pair: client/cost.ts), and the CSV
 * text of such rows.
 */
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { callCost, type Prices } from "./cost.ts";
import type { CallStatus, ResponseFuture } from "./response-future.ts";

/** One call. Times are epoch milliseconds; a field is undefined until the call has it. */
export interface JobSummaryRow {
  executorId: string;
  jobId: string;
  callId: string;
  status: CallStatus;
  workerId?: string;
  /** When the client queued the call. */
  submitted: number;
  /** When a worker started it. */
  started?: number;
  /** When the worker finished it. */
  finished?: number;
  /** started - submitted. */
  queueWaitMs?: number;
  /** finished - started. */
  durationMs?: number;
  argumentBytes: number;
  resultBytes?: number;
  /** Which delivery of the call's message produced the outcome (1 = first). */
  attempt?: number;
  /** durationMs at the runtime's vCPU and memory: the call's share of what its replica is billed (idle time not included). */
  vcpuSeconds?: number;
  gibSeconds?: number;
  /** vcpuSeconds and gibSeconds at the cost prices, USD. */
  usd?: number;
}

/** How rows get their cost columns: the prices, and the runtime memory (MB) of each call's job. */
export interface CallPricing {
  prices: Prices;
  memoryOf(future: ResponseFuture): number | undefined;
}

export interface JobSummaryOptions {
  /** The calls to summarize; default: every call of the executor, in call order. */
  fs?: ResponseFuture | readonly ResponseFuture[];
  /** Also write the rows as CSV to this file (directories are created). */
  csv?: string;
}

/** The CSV columns, in order: the row's field names. */
export const JOB_SUMMARY_COLUMNS = [
  "executorId",
  "jobId",
  "callId",
  "status",
  "workerId",
  "submitted",
  "started",
  "finished",
  "queueWaitMs",
  "durationMs",
  "argumentBytes",
  "resultBytes",
  "attempt",
  "vcpuSeconds",
  "gibSeconds",
  "usd",
] as const satisfies readonly (keyof JobSummaryRow)[];

/** The row of one future, as it stands now. */
export function summaryRow(future: ResponseFuture, pricing?: CallPricing): JobSummaryRow {
  const { submitted, started, finished, workerId, argumentBytes, resultBytes, attempt } = future.stats;
  const durationMs = started === undefined || finished === undefined ? undefined : finished - started;
  const memory = pricing?.memoryOf(future);
  const cost = durationMs === undefined || memory === undefined || pricing === undefined ? undefined : callCost(durationMs, memory, pricing.prices);
  return {
    executorId: future.executorId,
    jobId: future.jobId,
    callId: future.callId,
    status: future.status,
    workerId,
    submitted,
    started,
    finished,
    queueWaitMs: started === undefined ? undefined : started - submitted,
    durationMs,
    argumentBytes,
    resultBytes,
    attempt,
    vcpuSeconds: cost?.vcpuSeconds,
    gibSeconds: cost?.gibSeconds,
    usd: cost?.usd,
  };
}

/** Rows for the futures (with cost columns given `pricing`) and, with `csv`, the same rows written to that file. */
export async function jobSummary(futures: readonly ResponseFuture[], csv?: string, pricing?: CallPricing): Promise<JobSummaryRow[]> {
  const rows = futures.map((future) => summaryRow(future, pricing));
  if (csv !== undefined) {
    const path = resolve(csv);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, toCsv(rows));
  }
  return rows;
}

/**
 * CSV (RFC 4180 quoting): a header line with the column names, then one line per row, each
 * ending with "\n"; a missing value is an empty field, times are epoch milliseconds.
 */
export function toCsv(rows: readonly JobSummaryRow[]): string {
  const lines = [JOB_SUMMARY_COLUMNS.join(",")];
  for (const row of rows) lines.push(JOB_SUMMARY_COLUMNS.map((column) => csvField(row[column])).join(","));
  return `${lines.join("\n")}\n`;
}

function csvField(value: string | number | undefined): string {
  if (value === undefined) return "";
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
