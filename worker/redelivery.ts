import type { AppendBlobClient } from "@azure/storage-blob";
import { attemptLogKey } from "../protocol/keys.ts";
import { callSlices, type CallBatchMessage } from "../protocol/message.ts";
import type { CallOutcome } from "../protocol/output.ts";
import { isNotFound } from "../azure/storage-connection.ts";
import { NODE_MAJOR } from "../protocol/version.ts";
import { failedOutcome, loadBatch, runBatch, storeBatchOutput, type BatchContext } from "./batch-runner.ts";

/**
 * A batch whose message comes back (dequeueCount > 1) was held by a worker that died or
 * let it go. Its first delivery ran the calls in parallel, so any of them may have killed
 * the worker. A redelivered batch therefore runs its calls one at a time and notes in an
 * append blob (the attempt log) which call it starts: if the worker dies again, the next
 * delivery knows which call was running. A call suspected `maxDeliveries` times (the
 * first, parallel delivery counts once for every call of the batch) is reported as a
 * PoisonCallError without running again; the other calls of the batch still run.
 *
 * Log lines (JSON): `{"d":<delivery>,"w":"<worker>"}` when a delivery starts, `{"s":"<callId>"}`
 * before each call. The batch as a whole is poisoned (the old rule) when deliveries keep
 * dying before any call starts, or after `maxDeliveries x (calls + 1)` deliveries in all.
 */
export type RedeliveryOutcome =
  | { kind: "stored"; poisonedCalls: string[] }
  /** Give up on the batch: the caller fails every call and moves the message to the poison queue. */
  | { kind: "poison-batch"; reason: string };

/** More log lines than this and the batch is given up (an append blob holds at most 50,000 blocks). */
const MAX_LOG_LINES = 40_000;

interface LogAnalysis {
  /** Deliveries that died while this call was the one running. */
  blame: Map<string, number>;
  /** Deliveries that died before starting any call (the first, parallel, delivery included). */
  unattributed: number;
  lines: number;
}

export function analyzeAttemptLog(text: string): LogAnalysis {
  const blame = new Map<string, number>();
  let unattributed = 1; // the first delivery ran the calls in parallel: no single call to blame
  let lines = 0;
  let inSegment = false;
  let lastStarted: string | undefined;
  const closeSegment = (): void => {
    if (!inSegment) return;
    if (lastStarted === undefined) unattributed += 1;
    else blame.set(lastStarted, (blame.get(lastStarted) ?? 0) + 1);
  };
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    lines += 1;
    let record: { d?: unknown; s?: unknown } | null;
    try {
      record = JSON.parse(line) as { d?: unknown; s?: unknown } | null;
    } catch {
      continue;
    }
    if (record === null || typeof record !== "object") continue;
    if (typeof record.d === "number") {
      closeSegment();
      inSegment = true;
      lastStarted = undefined;
    } else if (typeof record.s === "string" && inSegment) {
      lastStarted = record.s;
    }
  }
  closeSegment();
  return { blame, unattributed, lines };
}

export async function runRedelivered(
  message: CallBatchMessage,
  delivery: number,
  context: BatchContext,
  maxDeliveries: number,
): Promise<RedeliveryOutcome> {
  const slices = callSlices(message.calls);
  if (message.nodeMajor !== NODE_MAJOR) {
    // Fails every call without running anything: nothing here can have killed a worker.
    await runBatch(message, delivery, context);
    return { kind: "stored", poisonedCalls: [] };
  }
  const log = context.container.getAppendBlobClient(attemptLogKey(message.executorId, message.jobId, message.batch));
  const analysis = analyzeAttemptLog(await readLog(log));
  if (analysis.unattributed >= maxDeliveries || delivery > maxDeliveries * (slices.length + 1) || analysis.lines > MAX_LOG_LINES) {
    return {
      kind: "poison-batch",
      reason: `the batch was delivered ${delivery - 1} times without an outcome and ${analysis.unattributed} of those deliveries died before any single call could be blamed (limit ${maxDeliveries})`,
    };
  }
  await log.createIfNotExists();
  await append(log, { d: delivery, w: context.workerId });
  const runCall = await loadBatch(message, delivery, context);
  const calls: CallOutcome[] = [];
  const poisonedCalls: string[] = [];
  for (const call of slices) {
    const suspected = 1 + (analysis.blame.get(call.id) ?? 0);
    if (suspected >= maxDeliveries) {
      poisonedCalls.push(call.id);
      calls.push(
        failedOutcome(call.id, delivery, context.workerId, {
          name: "PoisonCallError",
          message: `the call was running when its worker process died ${suspected} times (limit ${maxDeliveries}: local.max_deliveries / the runtime's maxDeliveries); it was not run again`,
        }),
      );
      continue;
    }
    await append(log, { s: call.id });
    calls.push(await runCall(call));
  }
  await storeBatchOutput(message, calls, context);
  return { kind: "stored", poisonedCalls };
}

async function readLog(log: AppendBlobClient): Promise<string> {
  try {
    return (await log.downloadToBuffer()).toString("utf8");
  } catch (error) {
    if (isNotFound(error)) return "";
    throw error;
  }
}

async function append(log: AppendBlobClient, record: object): Promise<void> {
  const line = `${JSON.stringify(record)}\n`;
  await log.appendBlock(line, Buffer.byteLength(line));
}
