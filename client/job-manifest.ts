import { JobNotFoundError } from "./errors.ts";
import { z } from "zod";
import { executorPrefix, jobManifestKey } from "../protocol/keys.ts";
import type { JobStorage } from "../runtime-model/backend.ts";
import type { CallBatch } from "./call-batches.ts";

/**
 * The job manifest, `lithops.jobs/<executor>/<job>/job.json`: written by the client at
 * submit, before any message is sent, so that another client (after this one was killed)
 * can re-attach to the job by its ids and collect its results (`FunctionExecutor.attach`).
 * It holds what the futures need and nothing secret: calls are numbered 0..callCount-1
 * and each batch is a run of consecutive calls.
 */
export const MANIFEST_VERSION = 1;

const manifestSchema = z
  .object({
    v: z.literal(MANIFEST_VERSION),
    executorId: z.string(),
    jobId: z.string(),
    /** Calls made by map() come back in arrays from getResult(). */
    fromMap: z.boolean(),
    callCount: z.number().int().min(0),
    /** Epoch milliseconds. */
    submitted: z.number(),
    runtime: z.string(),
    memory: z.number().int().positive(),
    /** The queue the calls were sent to (the local backend's are per program); absent in manifests written before it was recorded. */
    queue: z.string().optional(),
    /** [batch number, first call index, number of calls], in call order. */
    batches: z.array(z.tuple([z.number().int().min(0), z.number().int().min(0), z.number().int().min(1)])),
  })
  .strict()
  .refine((m) => m.batches.reduce((sum, [, , count]) => sum + count, 0) === m.callCount, "batches must add up to callCount");
export type JobManifest = z.infer<typeof manifestSchema>;

export function buildManifest(input: {
  executorId: string;
  jobId: string;
  fromMap: boolean;
  submitted: number;
  runtime: string;
  memory: number;
  queue: string;
  batches: readonly CallBatch[];
}): JobManifest {
  const batches = input.batches.map(({ batch, callIds }): [number, number, number] => [batch, Number(callIds[0]), callIds.length]);
  return {
    v: MANIFEST_VERSION,
    executorId: input.executorId,
    jobId: input.jobId,
    fromMap: input.fromMap,
    callCount: batches.reduce((sum, [, , count]) => sum + count, 0),
    submitted: input.submitted,
    runtime: input.runtime,
    memory: input.memory,
    queue: input.queue,
    batches,
  };
}

export function manifestUpload(manifest: JobManifest): { key: string; bytes: Buffer } {
  return { key: jobManifestKey(manifest.executorId, manifest.jobId), bytes: Buffer.from(JSON.stringify(manifest)) };
}

/** Reads and checks a job's manifest; the ids are validated first (no reaching outside lithops.jobs/<executor>/<job>/). */
export async function readManifest(jobs: JobStorage, executorId: string, jobId: string): Promise<JobManifest> {
  const key = jobManifestKey(executorId, jobId);
  const bytes = await jobs.get(key);
  if (!bytes)
    throw new JobNotFoundError(`job ${executorId}/${jobId} not found: no ${key} in job storage (cleaned, never submitted, or another storage account)`);
  let raw: unknown;
  try {
    raw = JSON.parse(bytes.toString("utf8"));
  } catch {
    throw new JobNotFoundError(`job manifest ${key} is not JSON`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success || parsed.data.executorId !== executorId || parsed.data.jobId !== jobId) {
    const problem = parsed.success ? "it names another job" : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ");
    throw new JobNotFoundError(`job manifest ${key} is not valid: ${problem}`);
  }
  return parsed.data;
}

/** The ids of the jobs an executor submitted, from their manifests, in submit order. */
export async function listJobIds(jobs: JobStorage, executorId: string): Promise<string[]> {
  const prefix = executorPrefix(executorId);
  const ids: string[] = [];
  for await (const folder of jobs.listFolders(prefix)) ids.push(folder.slice(prefix.length, -1));
  const withManifest = await Promise.all(ids.map(async (jobId) => ((await jobs.get(jobManifestKey(executorId, jobId))) ? jobId : undefined)));
  // Job ids are a kind letter and a counter (A000, M001, ...): submit order is the counter's.
  const order = (id: string): number => Number(/\d+$/.exec(id)?.[0] ?? Infinity);
  return withManifest.filter((id): id is string => id !== undefined).sort((a, b) => order(a) - order(b) || a.localeCompare(b));
}
