import type { RuntimeTarget } from "../runtime-model/backend.ts";
import { encodeCompact } from "../protocol/data-codec.ts";
import { callArguments } from "./args.ts";
import type { BackendSession } from "./backend-session.ts";
import { batchCalls } from "./call-batches.ts";
import type { ExecutorConfig } from "./config.ts";
import { buildManifest, manifestUpload } from "./job-manifest.ts";
import type { Logger } from "./logger.ts";
import type { MapOptions } from "./options.ts";
import { type FutureStats, newStats, type ResponseFuture } from "./response-future.ts";
import { shipFunction } from "./ship-function.ts";
import type { Speculation } from "./speculation.ts";

/** What submitting a job needs from its executor. */
export interface SubmissionContext {
  executorId: string;
  /** The executor's settings as they are now (a client bound to a stack completes them when its backend starts). */
  config: () => ExecutorConfig;
  session: BackendSession;
  speculation: Speculation;
  log: Logger;
  newFuture: (jobId: string, callId: string, fromMap: boolean, stats: FutureStats) => ResponseFuture;
}

export interface JobRequest {
  jobId: string;
  fn: unknown;
  elements: unknown[];
  /** Checked by the public method's schema. */
  options: MapOptions;
  fromMap: boolean;
}

/**
 * Queues one job: the arguments encoded, the function shipped while the backend starts, the
 * payloads and the job manifest stored, then the messages sent. Returns the job's futures,
 * watched by the backend's job monitor.
 */
export async function submitJob(context: SubmissionContext, { jobId, fn, elements, options, fromMap }: JobRequest): Promise<ResponseFuture[]> {
  const { executorId, session, speculation, log } = context;
  // Bound to a stack: the stack's config (default runtime, memory) applies from the first call on.
  if (context.config().stack) await session.running();
  const config = context.config();
  const memory = options.runtimeMemory ?? config.runtimeMemory;
  const extraArgs = options.extraArgs ?? [];
  const calls = elements.map((element, index) => encodeCompact(callArguments(element, extraArgs), `the argument of call ${index}`));
  // The backend (Azurite and the workers, on first use) starts while the function is serialized.
  const running = session.running();
  running.catch(() => undefined); // a failed start is reported by the await below, after any shipping error
  const functionText = await shipFunction(fn);
  const { backend, monitor } = await running;
  const target: RuntimeTarget = await session.prepareRuntime(backend, memory);
  const signingKey = config.signingKey ?? backend.signingKey;
  const batches = batchCalls({
    executorId,
    jobId,
    functionText,
    calls,
    parallelism: config.maxWorkers * config.workerProcesses,
    timeout: Math.min(options.timeout ?? config.executionTimeout, config.runtimeTimeout),
    queue: target.queue,
    signingKey,
    callsPerMessage: options.chunksize ?? config.chunksize,
    env: options.extraEnv,
  });
  // The job manifest goes with the payloads, before any message: another client can re-attach by the job's ids.
  const manifest = manifestUpload(
    buildManifest({ executorId, jobId, fromMap, submitted: Date.now(), runtime: target.name, memory, queue: target.queue, batches: batches.batches }),
  );
  await Promise.all([...batches.uploads, manifest].map(({ key, bytes }) => backend.jobs.put(key, bytes)));
  const submitted = Date.now();
  const futuresOfBatch = new Map<number, ResponseFuture[]>();
  const futures: ResponseFuture[] = [];
  for (const { batch, callIds } of batches.batches) {
    const batchFutures = callIds.map((callId) => context.newFuture(jobId, callId, fromMap, newStats(submitted, batch, calls[Number(callId)].length)));
    futuresOfBatch.set(batch, batchFutures);
    for (const future of batchFutures) futures.push(future);
  }
  monitor.watch(executorId, jobId, futuresOfBatch);
  if (options.speculative ?? config.speculative) speculation.track({ jobId, messages: batches.messages, futuresOfBatch, backend, monitor, target, signingKey });
  await backend.send(target, batches.messages);
  log.debug(`${jobId}: ${calls.length} calls in ${batches.messages.length} messages to ${target.queue}`);
  // The inspector session the function serializer keeps open (function-serializer/scope-inspector.ts) can keep
  // the latest async call's variables alive after it returns: let go of the encoded arguments (a Buffer per call).
  calls.length = 0;
  return futures;
}
