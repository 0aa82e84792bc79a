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
}

export type CallOutcome =
  | { callId: string; ok: true; /** V8-serialized return value, decoded only when the client asks for it. */ result: Uint8Array; stats: CallStats }
  | { callId: string; ok: false; error: RemoteErrorInfo; stats: CallStats };

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
