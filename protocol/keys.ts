import { InvalidArgumentError } from "./errors.ts";

/**
 * Storage key layout, as in Lithops: everything a job writes lives under
 * `lithops.jobs/<executor>/<job>/`, everything about a runtime under `lithops.runtimes/`.
 * Ids are validated so that no id can reach outside its own prefix.
 */
export const JOBS_PREFIX = "lithops.jobs";
export const RUNTIMES_PREFIX = "lithops.runtimes";
/** Delivery markers (worker/queue-consumer.ts): outside job data, so cleaning a job cannot make its messages replayable. */
export const DELIVERIES_PREFIX = "lithops.deliveries";

/** Executor, job and queue ids: also what a queue message may carry (protocol/message.ts). */
export const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;

export function assertId(kind: string, value: string): string {
  if (!ID_PATTERN.test(value)) {
    throw new InvalidArgumentError(`${kind} ${JSON.stringify(value)} is not valid: use 1-64 letters, digits, '_' or '-', starting with a letter or digit`);
  }
  return value;
}

/** Call ids are the call's index in its job, zero-padded like Lithops's. */
export function callId(index: number): string {
  return String(index).padStart(5, "0");
}

export function executorPrefix(executorId: string): string {
  return `${JOBS_PREFIX}/${assertId("executor id", executorId)}/`;
}

export function jobPrefix(executorId: string, jobId: string): string {
  return `${executorPrefix(executorId)}${assertId("job id", jobId)}/`;
}

export function functionKey(executorId: string, jobId: string): string {
  return `${jobPrefix(executorId, jobId)}function.cjs`;
}

export function dataKey(executorId: string, jobId: string): string {
  return `${jobPrefix(executorId, jobId)}data.bin`;
}

export function outputPrefix(executorId: string, jobId: string): string {
  return `${jobPrefix(executorId, jobId)}out/`;
}

const BATCH_DIGITS = 6;

export function outputKey(executorId: string, jobId: string, batch: number): string {
  return `${outputPrefix(executorId, jobId)}${String(batch).padStart(BATCH_DIGITS, "0")}.bin`;
}

/** A running batch's progress (protocol/output.ts's BatchProgress), beside its status document's folder. */
export function progressKey(executorId: string, jobId: string, batch: number): string {
  return `${jobPrefix(executorId, jobId)}progress/${String(batch).padStart(BATCH_DIGITS, "0")}.json`;
}

/** The batch number of a progress key, or undefined for any other key. */
export function batchOfProgressKey(key: string): number | undefined {
  const match = /\/progress\/(\d+)\.json$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

/** Written by the client at submit: what a new client needs to re-attach to the job (client/job-manifest.ts). */
export function jobManifestKey(executorId: string, jobId: string): string {
  return `${jobPrefix(executorId, jobId)}job.json`;
}

/** A job's cancel marker (protocol/job-cancel.ts): written by a client or `lithops-aca job cancel`, read by workers before and while they run its calls. */
export function cancelMarkerKey(executorId: string, jobId: string): string {
  return `${jobPrefix(executorId, jobId)}cancel.json`;
}

/** Append blob a worker keeps while it re-runs a redelivered batch: which call was running when a worker died. */
export function attemptLogKey(executorId: string, jobId: string, batch: number): string {
  return `${jobPrefix(executorId, jobId)}attempts/${String(batch).padStart(BATCH_DIGITS, "0")}.log`;
}

/** The batch number of an output key, or undefined for any other key under the prefix. */
export function batchOfOutputKey(key: string): number | undefined {
  const match = /\/out\/(\d+)\.bin$/.exec(key);
  return match ? Number(match[1]) : undefined;
}

export function runtimePrefix(queueName: string): string {
  return `${RUNTIMES_PREFIX}/${assertId("queue name", queueName)}/`;
}

export function runtimeMetadataKey(queueName: string): string {
  return `${runtimePrefix(queueName)}metadata.json`;
}

export function rejectedMessageKey(queueName: string, messageId: string): string {
  return `${runtimePrefix(queueName)}rejected/${new Date().toISOString().replace(/[:.]/g, "-")}-${messageId.replace(/[^A-Za-z0-9-]/g, "")}.json`;
}

/** The marker of a message's first delivery, named by the digest of its signature (or text): one per message ever run. */
export function deliveryMarkerKey(queueName: string, messageDigest: string): string {
  return `${DELIVERIES_PREFIX}/${assertId("queue name", queueName)}/${messageDigest}`;
}
