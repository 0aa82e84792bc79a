import { createHash } from "node:crypto";
import type { BlockBlobClient, ContainerClient } from "@azure/storage-blob";
import type { RemoteErrorInfo } from "../protocol/data-codec.ts";
import { outputKey, progressKey } from "../protocol/keys.ts";
import { callSlices, type BatchAddress, type CallBatchMessage, type CallSlice } from "../protocol/message.ts";
import { encodeBatchOutput, type BatchOutput, type BatchProgress, type CallOutcome, type CallStats } from "../protocol/output.ts";
import type { RequestCounter } from "../azure/storage-connection.ts";
import { NODE_MAJOR, PROTOCOL_VERSION } from "../protocol/version.ts";
import { callEnvironment } from "./call-key.ts";
import type { PayloadReader } from "./payloads.ts";
import type { CallThreadPool } from "./thread-pool.ts";
import type { CancelWatch } from "./cancel-watch.ts";

export interface BatchContext {
  container: ContainerClient;
  payloads: PayloadReader;
  pool: CallThreadPool;
  counter: RequestCounter;
  workerId: string;
  /** The runtime's own limit; a message may ask for less, never for more. */
  runtimeTimeout: number;
  /** The stack's key: outputs are MACed with it (or the message's call key), calls get a call key. */
  signingKey?: string;
}

/** Runs every call of a batch and stores the batch's status document. */
export async function runBatch(message: CallBatchMessage, attempt: number, context: BatchContext, cancel?: CancelWatch): Promise<void> {
  let calls: CallOutcome[];
  if (message.nodeMajor !== NODE_MAJOR) {
    calls = failAll(message, attempt, context.workerId, {
      name: "RuntimeMismatchError",
      message: `the client runs Node.js ${message.nodeMajor} but this runtime runs Node.js ${NODE_MAJOR}; use a runtime built for Node.js ${message.nodeMajor}`,
    });
  } else {
    const progress = new ProgressRecorder(context.container.getBlockBlobClient(progressKey(message.executorId, message.jobId, message.batch)));
    try {
      const runCall = await loadBatch(message, attempt, context, progress, cancel);
      calls = await Promise.all(callSlices(message.calls).map(runCall));
    } finally {
      await progress.stop();
    }
  }
  await storeBatchOutput(message, calls, context);
}

/** How often at most a running batch's progress is written: batches shorter than this write none. */
const PROGRESS_INTERVAL_MS = 1000;

/**
 * Which calls of a running batch started and finished, written to the batch's progress blob
 * (protocol/keys.ts's progressKey) once a second while something changed, so the client's
 * progress bar and futures' `running` / `ready` states follow calls, not batches. The
 * first write comes a second after the batch started: tiny batches cost no request.
 */
export class ProgressRecorder {
  private readonly running = new Set<string>();
  private readonly finished: string[] = [];
  private changed = false;
  private writing?: Promise<void>;
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly blob: BlockBlobClient) {
    this.timer = setInterval(() => this.write(), PROGRESS_INTERVAL_MS);
    this.timer.unref();
  }

  started(callId: string): void {
    this.running.add(callId);
    this.changed = true;
  }

  ended(callId: string): void {
    this.running.delete(callId);
    this.finished.push(callId);
    this.changed = true;
  }

  /** Stops writing (the status document takes over); waits for a write in progress. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.writing;
  }

  private write(): void {
    if (!this.changed || this.writing) return;
    this.changed = false;
    const progress: BatchProgress = { running: [...this.running], finished: [...this.finished] };
    const body = JSON.stringify(progress);
    // Progress is a hint: a failed write is retried with the next change, never fails the batch.
    this.writing = this.blob
      .upload(body, Buffer.byteLength(body))
      .then(
        () => undefined,
        () => {
          this.changed = true;
        },
      )
      .finally(() => (this.writing = undefined));
  }
}

/** Loads a batch's function and data once; the returned function runs one call of the batch. */
export async function loadBatch(
  message: CallBatchMessage,
  attempt: number,
  context: BatchContext,
  progress?: ProgressRecorder,
  cancel?: CancelWatch,
): Promise<(call: CallSlice) => Promise<CallOutcome>> {
  const [funcText, data] = await Promise.all([context.payloads.functionText(message.func), context.payloads.bytes(message.data)]);
  const funcId = createHash("sha256").update(funcText).digest("hex").slice(0, 16);
  const timeoutSeconds = Math.min(message.timeout, context.runtimeTimeout);
  // A call may wait for a free thread behind the batch's others: its call key lasts that long too.
  const rounds = Math.ceil(callSlices(message.calls).length / context.pool.capacity);
  return async (call) => {
    if (cancel?.cancelled(call.id)) return failedOutcome(call.id, attempt, context.workerId, cancel.error);
    const result = await context.pool.run({
      signal: cancel?.signal(call.id),
      cancelledError: cancel?.error,
      funcId,
      funcText,
      args: data.subarray(call.start, call.end),
      timeoutSeconds,
      env: callEnvironment(message, context.signingKey, Date.now() + rounds * timeoutSeconds * 1000),
      onStart: progress && (() => progress.started(call.id)),
    });
    progress?.ended(call.id);
    const stats: CallStats = {
      started: result.started,
      finished: result.finished,
      workerId: context.workerId,
      attempt,
      resultBytes: result.ok ? result.result.byteLength : 0,
      cpuMs: result.cpuMs,
      peakMemoryBytes: result.peakMemoryBytes,
    };
    const logs = result.logs === undefined ? {} : { logs: result.logs };
    return result.ok
      ? { callId: call.id, ok: true, result: result.result, stats, ...logs }
      : { callId: call.id, ok: false, error: result.error, stats, ...logs };
  };
}

/** The outcome of a call that failed without running. */
export function failedOutcome(callId: string, attempt: number, workerId: string, error: RemoteErrorInfo, now = Date.now()): CallOutcome {
  return { callId, ok: false, error, stats: { started: now, finished: now, workerId, attempt, resultBytes: 0 } };
}

export function failAll(message: BatchAddress, attempt: number, workerId: string, error: RemoteErrorInfo): CallOutcome[] {
  const now = Date.now();
  return callSlices(message.calls).map((call) => failedOutcome(call.id, attempt, workerId, error, now));
}

export async function storeBatchOutput(
  message: BatchAddress,
  calls: CallOutcome[],
  context: Pick<BatchContext, "container" | "counter" | "workerId" | "signingKey">,
): Promise<void> {
  const output: BatchOutput = {
    v: PROTOCOL_VERSION,
    executorId: message.executorId,
    jobId: message.jobId,
    batch: message.batch,
    workerId: context.workerId,
    // Every request of this worker process since its previous report (receives, idle polls
    // and renewals included), +1 for the upload below and +1 for deleting the message afterwards.
    storageOps: context.counter.unreported(2),
    calls,
  };
  const bytes = encodeBatchOutput(output, context.signingKey, message.dlg);
  await context.container.getBlockBlobClient(outputKey(message.executorId, message.jobId, message.batch)).uploadData(bytes);
}
