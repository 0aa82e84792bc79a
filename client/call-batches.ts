import { dataKey, functionKey } from "../protocol/keys.ts";
import {
  callSlices,
  decodeMessage,
  encodeMessage,
  MAX_CALLS_PER_MESSAGE,
  MAX_INLINE_PAYLOAD_BYTES,
  type CallBatchMessage,
  type PayloadRef,
} from "../protocol/message.ts";
import { attachSignature, detachSignature, sha256, signingIdentity } from "../protocol/signing.ts";
import { NODE_MAJOR, PROTOCOL_VERSION } from "../protocol/version.ts";

const SMALL_SHARE = 16;
const LARGE_SHARE = 256;
/**
 * How many batches each parallel slot gets, by its share of the calls: a batch costs about seven
 * storage requests whatever its size (send, receive, delivery marker, cancel marker, output,
 * delete, the client's read), while more batches than slots let a slot that finishes early take
 * over queued work. A small share (at most SMALL_SHARE calls: batches of a few calls, where one
 * slow call unbalances its batch and the requests are few in all) gets 4 batches; a share of
 * LARGE_SHARE calls or more gets one, whose many calls average out their durations (a 1,000-call
 * map on 2 slots: 0.03 requests per call, 0.07 in 4 batches per slot, and no slower:
 * bench/results/2026-12-07-map-requests.md); in between, 2.
 */
function batchesPerSlot(callsPerSlot: number): number {
  if (callsPerSlot <= SMALL_SHARE) return 4;
  return callsPerSlot < LARGE_SHARE ? 2 : 1;
}
/** A worker holds one batch's data in memory at a time. */
const MAX_BATCH_BYTES = 8 * 1024 * 1024;
/** Function texts up to this size ride in every message instead of costing a blob per job. */
const MAX_INLINE_FUNCTION_BYTES = 12 * 1024;

export interface BatchInput {
  executorId: string;
  jobId: string;
  functionText: string;
  /** Each call's V8-encoded argument list, in call order. */
  calls: Buffer[];
  /** Calls that can run at once (maxWorkers x workerProcesses). */
  parallelism: number;
  timeout: number;
  /** The runtime's queue the messages go to: signed into each, so no other runtime runs them. */
  queue: string;
  /** The stack's key, or inside a running call the call key token it was given (nested jobs). */
  signingKey?: string;
  /** Calls per message (Lithops's chunksize); default: spread so each parallel slot gets 1 to 4 batches (defaultCallsPerBatch). */
  callsPerMessage?: number;
  /** Environment variables for the calls (extraEnv). */
  env?: Record<string, string>;
}

export interface CallBatch {
  batch: number;
  callIds: string[];
}

export interface BatchedCalls {
  /** Blobs to write before any message is sent: at most the function and one data blob. */
  uploads: { key: string; bytes: Buffer }[];
  messages: string[];
  batches: CallBatch[];
}

/** Calls per batch by default: `calls` spread over `batchesPerSlot` batches per parallel slot, at most MAX_CALLS_PER_MESSAGE each. */
export function defaultCallsPerBatch(calls: number, parallelism: number): number {
  const perSlot = batchesPerSlot(calls / parallelism);
  return Math.min(MAX_CALLS_PER_MESSAGE, Math.max(1, Math.ceil(calls / (parallelism * perSlot))));
}

/** Groups consecutive calls into batches: one queue message per batch, never one per call. */
function groupCalls(calls: Buffer[], parallelism: number, callsPerMessage?: number): number[][] {
  const perBatch = Math.min(MAX_CALLS_PER_MESSAGE, callsPerMessage ?? defaultCallsPerBatch(calls.length, parallelism));
  const groups: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  calls.forEach((call, index) => {
    if (current.length > 0 && (current.length >= perBatch || bytes + call.length > MAX_BATCH_BYTES)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(index);
    bytes += call.length;
  });
  if (current.length > 0) groups.push(current);
  return groups;
}

const base64Length = (bytes: number): number => Math.ceil(bytes / 3) * 4;

export function batchCalls(input: BatchInput): BatchedCalls {
  const uploads: BatchedCalls["uploads"] = [];
  const functionBytes = Buffer.from(input.functionText, "utf8");
  let func: PayloadRef;
  if (functionBytes.length <= MAX_INLINE_FUNCTION_BYTES) {
    func = { inline: functionBytes.toString("base64") };
  } else {
    const key = functionKey(input.executorId, input.jobId);
    uploads.push({ key, bytes: functionBytes });
    func = { key, start: 0, end: functionBytes.length, sha256: sha256(functionBytes) };
  }
  const inlineBudget = MAX_INLINE_PAYLOAD_BYTES - ("inline" in func ? func.inline.length : 0);

  const blobParts: Buffer[] = [];
  let blobOffset = 0;
  const messages: string[] = [];
  const batches: CallBatch[] = [];
  const submitted = Date.now();
  // Sent only when set: workers that predate the field still read every other message.
  const env = input.env && Object.keys(input.env).length > 0 ? { env: input.env } : {};
  const grant = grantOf(input.signingKey);
  groupCalls(input.calls, input.parallelism, input.callsPerMessage).forEach((indexes, batch) => {
    const offsets = [0];
    for (const index of indexes) offsets.push(offsets[offsets.length - 1] + input.calls[index].length);
    const calls = { first: indexes[0], offsets };
    const batchData = Buffer.concat(indexes.map((index) => input.calls[index]));
    let data: PayloadRef;
    if (base64Length(batchData.length) + offsets.length * 9 <= inlineBudget) {
      data = { inline: batchData.toString("base64") };
    } else {
      blobParts.push(batchData);
      data = { key: dataKey(input.executorId, input.jobId), start: blobOffset, end: blobOffset + batchData.length, sha256: sha256(batchData) };
      blobOffset += batchData.length;
    }
    const message: CallBatchMessage = {
      v: PROTOCOL_VERSION,
      kind: "calls",
      queue: input.queue,
      executorId: input.executorId,
      jobId: input.jobId,
      batch,
      nodeMajor: NODE_MAJOR,
      timeout: input.timeout,
      func,
      data,
      calls,
      submitted,
      ...env,
      ...grant,
    };
    messages.push(signed(message, input.signingKey));
    batches.push({ batch, callIds: callSlices(calls).map((slice) => slice.id) });
  });
  if (blobParts.length > 0) uploads.push({ key: dataKey(input.executorId, input.jobId), bytes: Buffer.concat(blobParts) });
  return { uploads, messages, batches };
}

/** The grant field a nested job's messages carry (none when signed with the stack's key, or unsigned). */
function grantOf(signingKey: string | undefined): { dlg?: string } {
  const grant = signingKey === undefined ? undefined : signingIdentity(signingKey).grant;
  return grant === undefined ? {} : { dlg: grant };
}

function signed(message: CallBatchMessage, signingKey: string | undefined): string {
  const text = encodeMessage(message);
  return signingKey === undefined ? text : attachSignature(text, signingIdentity(signingKey).key);
}

/**
 * A backup copy of a queued batch (`speculative`, client/speculation.ts): the same calls, the
 * same payloads, under batch number `batch`, so that its status document has a key of its own
 * and the two outcomes can be told apart. Re-signed: the batch number is part of what is signed,
 * and a message is accepted once (its delivery marker names its digest).
 */
export function backupMessage(original: string, batch: number, signingKey: string | undefined): string {
  const message = decodeMessage(detachSignature(original)?.unsigned ?? original);
  return signed({ ...message, batch, submitted: Date.now() }, signingKey);
}
