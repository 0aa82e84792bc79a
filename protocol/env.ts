import { z } from "zod";
import { InvalidArgumentError } from "./errors.ts";

/**
 * Environment variables a worker reads: the Container App sets them from the Pulumi
 * component, the local backend sets exactly the same ones on its worker processes.
 */
export const ENV = {
  backend: "LITHOPS_BACKEND",
  storageAccount: "LITHOPS_STORAGE_ACCOUNT",
  blobEndpoint: "LITHOPS_STORAGE_BLOB_ENDPOINT",
  queueEndpoint: "LITHOPS_STORAGE_QUEUE_ENDPOINT",
  connectionString: "LITHOPS_STORAGE_CONNECTION_STRING",
  container: "LITHOPS_STORAGE_CONTAINER",
  queue: "LITHOPS_QUEUE",
  poisonQueue: "LITHOPS_POISON_QUEUE",
  runtimeName: "LITHOPS_RUNTIME_NAME",
  runtimeMemory: "LITHOPS_RUNTIME_MEMORY",
  runtimeTimeout: "LITHOPS_RUNTIME_TIMEOUT",
  workerProcesses: "LITHOPS_WORKER_PROCESSES",
  visibilityTimeout: "LITHOPS_VISIBILITY_TIMEOUT",
  maxDeliveries: "LITHOPS_MAX_DELIVERIES",
  idlePollMaxMs: "LITHOPS_IDLE_POLL_MAX_MS",
  signingKey: "LITHOPS_SIGNING_KEY",
  /** "1": run unsigned messages when no signing key is set (docs/security.md); without it a worker with no key refuses to start. */
  allowUnsigned: "LITHOPS_ALLOW_UNSIGNED_MESSAGES",
  workerId: "LITHOPS_WORKER_ID",
  /** Local backend: the id of the program whose workers these are; a nested job's client queues its calls for the same program (azure/runtime-name.ts's programQueues). */
  programId: "LITHOPS_PROGRAM_ID",
  /** Folder shipped functions resolve `require` / `import()` from: the user's project locally, the image's WORKDIR (the default) on Azure. */
  functionDir: "LITHOPS_FUNCTION_DIR",
  /** The replica's termination grace period in seconds, exactly as the Container App sets it: the worker keeps its own margin inside it. */
  terminationGrace: "LITHOPS_TERMINATION_GRACE_SECONDS",
  /** User-assigned managed identity's client id, read by DefaultAzureCredential. */
  azureClientId: "AZURE_CLIENT_ID",
  /** Local backend: `1` on a worker started before its runtime was known (local/worker-scaler.ts's SpareWorker): the rest of its environment comes over its IPC channel (protocol/worker-env-message.ts). */
  envFromParent: "LITHOPS_ENV_FROM_PARENT",
  /** `1` on a Container Apps Job's worker (a runtime whose timeout is above 600 s): take one message, run it, exit. */
  oneMessage: "LITHOPS_ONE_MESSAGE",
  /** Set on the Container App (not read by the worker) from the runtime's `revision`: a new value rolls a new revision. */
  runtimeRevision: "LITHOPS_RUNTIME_REVISION",
} as const;

export const BACKENDS = ["local", "azure_containers"] as const;
export type BackendName = (typeof BACKENDS)[number];

const intFromEnv = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** Validated worker settings; the defaults are the ones a Container App gets unless configured. */
export const workerEnvSchema = z.object({
  [ENV.backend]: z.enum(BACKENDS).default("azure_containers"),
  [ENV.storageAccount]: z.string().min(3).optional(),
  [ENV.blobEndpoint]: z.url().optional(),
  [ENV.queueEndpoint]: z.url().optional(),
  [ENV.connectionString]: z.string().min(1).optional(),
  [ENV.container]: z.string().min(3),
  [ENV.queue]: z.string().min(3),
  [ENV.poisonQueue]: z.string().min(3),
  [ENV.runtimeName]: z.string().min(1),
  [ENV.runtimeMemory]: intFromEnv(128, 1 << 20).default(512),
  [ENV.runtimeTimeout]: intFromEnv(1, 7 * 24 * 3600).default(600),
  [ENV.workerProcesses]: intFromEnv(1, 256).default(1),
  [ENV.visibilityTimeout]: intFromEnv(1, 3600).default(30),
  [ENV.maxDeliveries]: intFromEnv(1, 100).default(3),
  [ENV.idlePollMaxMs]: intFromEnv(10, 60_000).default(1000),
  [ENV.signingKey]: z.string().min(16).optional(),
  [ENV.allowUnsigned]: z.enum(["0", "1"]).optional(),
  [ENV.workerId]: z.string().min(1).optional(),
  [ENV.programId]: z.string().min(1).optional(),
  [ENV.functionDir]: z.string().min(1).optional(),
  [ENV.terminationGrace]: intFromEnv(1, 7 * 24 * 3600).default(30),
});

export type WorkerEnv = z.output<typeof workerEnvSchema>;

/** Parses the worker's environment, naming every variable that is missing or wrong. */
export function parseWorkerEnv(env: NodeJS.ProcessEnv): WorkerEnv {
  const parsed = workerEnvSchema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new InvalidArgumentError(`worker environment is invalid:\n  ${problems.join("\n  ")}`);
  }
  const value = parsed.data;
  if (!value[ENV.connectionString] && !value[ENV.storageAccount]) {
    throw new InvalidArgumentError(`worker environment is invalid: set ${ENV.connectionString} or ${ENV.storageAccount}`);
  }
  return value;
}
