// The worker: the program a runtime's container runs, and the program the local backend
// starts as child processes, configured only by environment variables (protocol/env.ts).
import { hostname } from "node:os";
import { ENV, parseWorkerEnv } from "../protocol/env.ts";
import { isWakeMessage } from "../protocol/polling.ts";
import { isWorkerEnvMessage, WORKER_READY_MESSAGE, WORKER_RUNNING_MESSAGE } from "../protocol/worker-env-message.ts";
import { connectStorage, storageSettingsFromEnv } from "../azure/storage-connection.ts";
import { PayloadReader } from "./payloads.ts";
import { QueueConsumer } from "./queue-consumer.ts";
import { recordRuntimeMetadata } from "./runtime-metadata.ts";
import { CallThreadPool } from "./thread-pool.ts";
import { InvalidArgumentError } from "../protocol/errors.ts";

/**
 * Seconds of the termination grace (ENV.terminationGrace) kept back after calls stop being
 * waited for: handing each unfinished message back takes an attempt-log append and a queue
 * update, which with the SDK's retries on a slow or throttled account can take seconds, and
 * must be done before the platform's SIGKILL or the release counts as a crash.
 */
const RELEASE_MARGIN_SECONDS = 5;

// Local backend: a worker started while Azurite was still starting has loaded its modules by now; the
// rest of its environment comes from the scaler that adopts it (local/worker-scaler.ts's SpareWorker).
if (process.env[ENV.envFromParent] === "1") {
  Object.assign(process.env, await envFromParent());
  delete process.env[ENV.envFromParent];
}
const env = parseWorkerEnv(process.env);
// Shipped functions must not read the stack's key: it leaves the environment before any call
// thread exists (threads copy it); calls get a call key of their own (worker/call-key.ts).
delete process.env[ENV.signingKey];
const workerId = env[ENV.workerId] ?? `${hostname()}-${process.pid}`;
const log = (line: string): void => {
  process.stderr.write(`[worker ${workerId}] ${line}\n`);
};

// The same settings the calls' own storage clients use (worker/call-refs.ts); parseWorkerEnv checked them.
const storageSettings = storageSettingsFromEnv(process.env);
if (!storageSettings) throw new InvalidArgumentError(`worker environment is invalid: set ${ENV.container} and ${ENV.queue}`);
const storage = connectStorage(storageSettings);
const memory = env[ENV.runtimeMemory];
// A Container Apps Job execution (ENV.oneMessage) takes one message, runs it, and exits.
const oneMessage = process.env[ENV.oneMessage] === "1";
const processes = oneMessage ? 1 : env[ENV.workerProcesses];
// The pool splits the container's memory between its call threads and the worker process itself;
// it keeps the stack's key to check, for reducers' threads, the map outputs they read.
const pool = new CallThreadPool(processes, memory, env[ENV.signingKey]);
const consumer = new QueueConsumer(
  storage.queueService.getQueueClient(env[ENV.queue]),
  storage.queueService.getQueueClient(env[ENV.poisonQueue]),
  storage.container,
  {
    container: storage.container,
    payloads: new PayloadReader(storage.container),
    pool,
    counter: storage.counter,
    workerId,
    runtimeTimeout: env[ENV.runtimeTimeout],
    signingKey: env[ENV.signingKey],
  },
  {
    queueName: env[ENV.queue],
    visibilityTimeout: env[ENV.visibilityTimeout],
    maxDeliveries: env[ENV.maxDeliveries],
    idlePollMaxMs: env[ENV.idlePollMaxMs],
    signingKey: env[ENV.signingKey],
    allowUnsigned: env[ENV.allowUnsigned] === "1",
    maxMessages: oneMessage ? 1 : undefined,
    log,
  },
);

// Local backend: the scaler tells its workers over the IPC channel when it queued work, so
// an idle worker polls at once instead of after its backed-off sleep. (No channel on Azure.)
if (process.channel) {
  process.on("message", (message: unknown) => {
    if (isWakeMessage(message)) consumer.nudge();
  });
  process.channel.unref();
}

// Scale-in or a new revision: take no more messages, let running calls finish within the
// grace, hand back the rest. Exit at once after that: terminating the call threads first
// would end the handed-back calls with failures that could still be stored as their outcome.
let stopping = false;
process.on("SIGTERM", () => {
  if (stopping) return;
  stopping = true;
  const drainSeconds = Math.max(0, env[ENV.terminationGrace] - RELEASE_MARGIN_SECONDS);
  log(`SIGTERM: finishing running calls for up to ${drainSeconds} s, then handing the rest back`);
  void consumer.stop(drainSeconds * 1000).finally(() => process.exit(0));
});

// Alongside the first receive, not before it: the write need not hold up the first call (one round trip).
void recordRuntimeMetadata(storage.container, env[ENV.runtimeName], memory, env[ENV.queue]).catch((error: Error) =>
  log(`could not record runtime metadata: ${error.message}`),
);
// Local backend: the scaler learns that this worker started (one that ends before this could not start).
process.send?.(WORKER_RUNNING_MESSAGE);
await consumer.run();
// The execution is done: its one message was run (or handed back); the call threads need not linger.
if (oneMessage) process.exit(0);

/** Says it is ready over the IPC channel, then waits for its variables (the channel keeps the process up meanwhile). */
function envFromParent(): Promise<Record<string, string>> {
  const { channel } = process;
  if (!channel || !process.send) throw new InvalidArgumentError(`${ENV.envFromParent}=1 needs an IPC channel to the local backend that started this worker`);
  channel.ref();
  return new Promise((resolve) => {
    const onMessage = (message: unknown): void => {
      if (!isWorkerEnvMessage(message)) return;
      process.off("message", onMessage);
      channel.unref();
      resolve(message.env);
    };
    process.on("message", onMessage);
    process.send?.(WORKER_READY_MESSAGE);
  });
}
