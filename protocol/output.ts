import type { RemoteErrorInfo } from "./data-codec.ts";

/**
 * The status document: one per batch, written by the worker once every call of the
 * batch has an outcome, before the queue message is deleted. The client learns about
 * finished calls by listing these, so a batch of calls costs one write and one read.
 */
export interface CallStats {
  /** Epoch milliseconds. */
  started: number;
  finished: number;
  workerId: string;
  /** Which delivery of the message produced this outcome (1 = first). */
  attempt: number;
  resultBytes: number;
  /**
   * Milliseconds the call's thread was busy (its event loop's active time, not waiting) while
   * the call ran: its CPU time, plus any synchronous blocking. Absent when the worker ended
   * the call (timeout, out of memory).
   */
  cpuMs?: number;
  /** The most the call's thread's V8 heap and buffers grew above their size at the call's start, in bytes (sampled). */
  peakMemoryBytes?: number;
}

/** A call's captured console output (stdout and stderr) is kept up to this many bytes, then marked truncated. */
export const MAX_CALL_LOG_BYTES = 64 * 1024;
export const TRUNCATED_LOG_MARKER = "\n[truncated]\n";

/** `logs`: what the call wrote to stdout and stderr (capped), absent when it wrote nothing. */
export type CallOutcome =
  | {
      callId: string;
      ok: true /** V8-serialized return value, decoded only when the client asks for it. */;
      result: Uint8Array;
      stats: CallStats;
      logs?: string;
    }
  | { callId: string; ok: false; error: RemoteErrorInfo; stats: CallStats; logs?: string };

/**
 * Written by the worker while a batch runs (at most once a second, and only for batches
 * that run longer than that), so the client sees calls start and finish before the batch's
 * status document exists: JSON, call ids.
 */
export interface BatchProgress {
  running: string[];
  finished: string[];
}

export interface BatchOutput {
  v: number;
  executorId: string;
  jobId: string;
  batch: number;
  workerId: string;
  /**
   * Storage requests the worker process made since its previous batch output (this batch's
   * own, its idle polls before it, and the upload and message delete of this output), so
   * summing them over outputs counts every worker request once: the cost figures in benchmarks.
   */
  storageOps: number;
  calls: CallOutcome[];
}

/** Runtime metadata a worker records when it starts: what the client checks against. */
export interface RuntimeMetadata {
  runtime: string;
  memory: number;
  nodeVersion: string;
  nodeMajor: number;
  workerVersion: string;
  protocolVersion: number;
  packages: Record<string, string>;
  startedAt: string;
}
