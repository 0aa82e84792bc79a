import type { AppendBlobClient, ContainerClient } from "@azure/storage-blob";
import { attemptLogKey } from "../protocol/keys.ts";
import { REMOTE_ERROR_NAMES } from "../protocol/errors.ts";
import { callSlices, type BatchAddress, type CallBatchMessage } from "../protocol/message.ts";
import type { CallOutcome } from "../protocol/output.ts";
import { isNotFound } from "../azure/storage-connection.ts";
import { NODE_MAJOR } from "../protocol/version.ts";
import type { CancelWatch } from "./cancel-watch.ts";
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
 * A worker stopped by SIGTERM (scale-in, a new revision) that hands a batch back notes
 * that too: such a delivery did not die and counts toward no call's crashes, but hand-backs
 * have a bound of their own (MAX_HAND_BACKS): a call that never ends, handed back by every
 * worker that scales in under it, would otherwise be delivered forever.
 *
 * Log lines (JSON): `{"d":<delivery>,"w":"<worker>"}` when a delivery starts, `{"s":"<callId>"}`
 * before each call, `{"r":<delivery>,"w":"<worker>"}` when that delivery was released on
 * SIGTERM. The batch as a whole is poisoned (the old rule) when deliveries keep dying
 * before any call starts, or after `maxDeliveries x (calls + 1)` unreleased deliveries in all.
 */
export type RedeliveryOutcome =
  | { kind: "stored"; poisonedCalls: string[] }
  /** Give up on the batch: the caller fails every call and moves the message to the poison queue. */
  | { kind: "poison-batch"; reason: string };

/** SIGTERM hand-backs of one batch after which it is given up (PoisonMessageError, reported as PoisonCallError). */
export const MAX_HAND_BACKS = 5;

/** More log lines than this and the batch is given up (an append blob holds at most 50,000 blocks). */
const MAX_LOG_LINES = 40_000;

export interface LogAnalysis {
  /** 1 when the first delivery, which ran the calls in parallel, died: every call is suspect once for it. */
  parallelDeaths: number;
  /** Deliveries that died while this call was the one running. */
  blame: Map<string, number>;
  /** Deliveries that died before any single call could be blamed (the first, parallel, one included). */
  unattributed: number;
  /** Deliveries released on SIGTERM: not failures. */
  released: number;
  lines: number;
}

/** Why the batch must be given up without running again, from its attempt log; undefined while it may run. */
export function givenUpReason(analysis: LogAnalysis, delivery: number, calls: number, maxDeliveries: number): string | undefined {
  // Deliveries handed back on SIGTERM did not fail: only the others count toward the crash limits.
  const failedDeliveries = delivery - 1 - analysis.released;
  if (analysis.released >= MAX_HAND_BACKS) {
    return `the batch was handed back ${analysis.released} times by workers stopping (SIGTERM, scale-in) before it could finish (limit ${MAX_HAND_BACKS}): a call that outlives every worker's grace period is given up rather than delivered forever`;
  }
  if (analysis.unattributed >= maxDeliveries || failedDeliveries >= maxDeliveries * (calls + 1) || analysis.lines > MAX_LOG_LINES) {
    return `the batch was delivered ${failedDeliveries} times without an outcome (not counting ${analysis.released} released on SIGTERM) and ${analysis.unattributed} of those deliveries died before any single call could be blamed (limit ${maxDeliveries})`;
  }
  return undefined;
}

export function analyzeAttemptLog(text: string): LogAnalysis {
  const released = new Set<number>();
  // The first delivery writes no line of its own: it ran the calls in parallel, with no single call to blame.
  const deliveries: { delivery: number; lastStarted?: string }[] = [{ delivery: 1 }];
  let lines = 0;
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    lines += 1;
    let record: { d?: unknown; s?: unknown; r?: unknown } | null;
    try {
      record = JSON.parse(line) as { d?: unknown; s?: unknown; r?: unknown } | null;
    } catch {
      continue;
    }
    if (record === null || typeof record !== "object") continue;
    if (typeof record.d === "number") deliveries.push({ delivery: record.d });
    else if (typeof record.s === "string" && deliveries.length > 1) deliveries[deliveries.length - 1].lastStarted = record.s;
    else if (typeof record.r === "number") released.add(record.r);
  }
  const blame = new Map<string, number>();
  let unattributed = 0;
  for (const { delivery, lastStarted } of deliveries) {
    if (released.has(delivery)) continue;
    if (lastStarted === undefined) unattributed += 1;
    else blame.set(lastStarted, (blame.get(lastStarted) ?? 0) + 1);
  }
  return { parallelDeaths: released.has(1) ? 0 : 1, blame, unattributed, released: released.size, lines };
}

/**
 * Notes that this worker hands the batch's message back on SIGTERM, before it does: the
 * next delivery then knows this one did not die. Messages of any delivery (the first,
 * parallel one included) are recorded.
 */
export async function recordRelease(container: ContainerClient, batch: BatchAddress, delivery: number, workerId: string): Promise<void> {
  const log = container.getAppendBlobClient(attemptLogKey(batch.executorId, batch.jobId, batch.batch));
  await log.createIfNotExists();
  await append(log, { r: delivery, w: workerId });
}

export async function runRedelivered(
  message: CallBatchMessage,
  delivery: number,
  context: BatchContext,
  maxDeliveries: number,
  cancel?: CancelWatch,
): Promise<RedeliveryOutcome> {
  const slices = callSlices(message.calls);
  if (message.nodeMajor !== NODE_MAJOR) {
    // Fails every call without running anything: nothing here can have killed a worker.
    await runBatch(message, delivery, context);
    return { kind: "stored", poisonedCalls: [] };
  }
  const log = context.container.getAppendBlobClient(attemptLogKey(message.executorId, message.jobId, message.batch));
  const analysis = analyzeAttemptLog(await readLog(log));
  const reason = givenUpReason(analysis, delivery, slices.length, maxDeliveries);
  if (reason) return { kind: "poison-batch", reason };
  await log.createIfNotExists();
  await append(log, { d: delivery, w: context.workerId });
  const runCall = await loadBatch(message, delivery, context, undefined, cancel);
  const calls: CallOutcome[] = [];
  const poisonedCalls: string[] = [];
  for (const call of slices) {
    const suspected = analysis.parallelDeaths + (analysis.blame.get(call.id) ?? 0);
    if (suspected >= maxDeliveries) {
      poisonedCalls.push(call.id);
      calls.push(
        failedOutcome(call.id, delivery, context.workerId, {
          name: REMOTE_ERROR_NAMES.poisonCall,
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
