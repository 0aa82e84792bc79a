import { decodeValue, encodeValue, type RemoteErrorInfo } from "./data-codec.ts";
import { OutputIntegrityError } from "./errors.ts";
import { outputKey } from "./keys.ts";
import { messageKey, outputMac, sameMac, signingIdentity } from "./signing.ts";

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

/**
 * A stored batch output: a 4-byte tag; when signed, the call grant of its message (2-byte
 * length, then the text; empty for the stack's own jobs) and the 32-byte MAC of the
 * output's key and payload; then the V8-encoded BatchOutput. The MAC key is the one the
 * message was signed with (protocol/signing.ts's messageKey): a client holding the stack's
 * key derives it from the grant, a nested client holding that call key has it. The client
 * checks the MAC before it deserializes anything, so storage write access alone cannot feed
 * it forged results.
 */
const SIGNED_TAG = Buffer.from("LOS1");
const UNSIGNED_TAG = Buffer.from("LOU1");
const MAC_BYTES = 32;

/** Encodes a batch output, MACed when the worker has the stack's key (`grant`: its message's call grant, if any). */
export function encodeBatchOutput(output: BatchOutput, stackKey: string | undefined, grant: string | undefined): Buffer {
  const payload = encodeValue(output, "batch output");
  if (stackKey === undefined) return Buffer.concat([UNSIGNED_TAG, payload]);
  const grantBytes = Buffer.from(grant ?? "");
  const length = Buffer.alloc(2);
  length.writeUInt16BE(grantBytes.length);
  const mac = outputMac(messageKey(stackKey, grant), outputKey(output.executorId, output.jobId, output.batch), payload);
  return Buffer.concat([SIGNED_TAG, length, grantBytes, mac, payload]);
}

/**
 * Checks and decodes the output stored at `key` (protocol/keys.ts's outputKey). With a key
 * (every client of a signed runtime), an output without a valid MAC is refused with
 * OutputIntegrityError before it is deserialized; without one (a runtime that opted out of
 * signing), any output is read. `signingKey` is what the client signs with: the stack's
 * key, or a call key token (nested jobs).
 */
export function decodeBatchOutput(bytes: Uint8Array, signingKey: string | undefined, key: string): BatchOutput {
  const output = decodeValue(checkedBatchOutput(bytes, signingKey, key)) as BatchOutput;
  if (outputKey(output.executorId, output.jobId, output.batch) !== key) {
    throw refusal(key, `names another batch (${output.executorId}/${output.jobId} batch ${output.batch})`);
  }
  return output;
}

/**
 * The V8-encoded BatchOutput inside the output stored at `key`, its framing and MAC checked
 * as decodeBatchOutput does, without deserializing anything: how a worker's main thread
 * checks, with the stack's key, a map output its reducer's call thread read (worker/thread-pool.ts).
 */
export function checkedBatchOutput(bytes: Uint8Array, signingKey: string | undefined, key: string): Buffer {
  const blob = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const tag = blob.subarray(0, 4);
  if (tag.equals(SIGNED_TAG) && blob.length >= 6) {
    const grantEnd = 6 + blob.readUInt16BE(4);
    const grant = grantEnd > 6 ? blob.subarray(6, grantEnd).toString("utf8") : undefined;
    const mac = blob.subarray(grantEnd, grantEnd + MAC_BYTES);
    const payload = blob.subarray(grantEnd + MAC_BYTES);
    if (signingKey !== undefined) {
      const identity = signingIdentity(signingKey);
      // The stack's key derives any call key; a call key checks only its own call's jobs.
      const macKey = identity.grant === undefined ? messageKey(identity.key, grant) : identity.grant === grant ? identity.key : undefined;
      if (macKey === undefined || mac.length !== MAC_BYTES || !sameMac(outputMac(macKey, key, payload), mac)) {
        throw refusal(key, "does not carry a valid MAC for this job's key: it was altered or written by someone without the key");
      }
    }
    return payload;
  }
  if (tag.equals(UNSIGNED_TAG)) {
    if (signingKey !== undefined) throw refusal(key, "is not MACed but its job is signed: it was not written by the runtime's worker");
    return blob.subarray(4);
  }
  throw refusal(key, "is not a lithops-aca batch output (unknown format)");
}

function refusal(key: string, why: string): OutputIntegrityError {
  return new OutputIntegrityError(`batch output ${key} ${why}; its results were not read`);
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
