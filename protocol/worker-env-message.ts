/**
 * The local backend starts its first worker process before Azurite is up and before it knows
 * the runtime (local/worker-scaler.ts's SpareWorker), so that loading the worker overlaps
 * Azurite's start. Such a worker (ENV.envFromParent) says it is ready over its IPC channel and
 * waits; the scaler that adopts it answers with the variables a worker of its runtime gets.
 */

/** Sent by a waiting worker once it listens for its environment (a message sent earlier would be lost). */
export const WORKER_READY_MESSAGE = { type: "lithops-worker-ready" } as const;

/**
 * Sent by a worker once its environment checked out and it starts taking messages: a worker
 * that ends before it says so could not start (a bad variable, a broken install), and the
 * local scaler stops starting more of them (local/worker-scaler.ts).
 */
export const WORKER_RUNNING_MESSAGE = { type: "lithops-worker-running" } as const;

export interface WorkerEnvMessage {
  type: "lithops-worker-env";
  env: Record<string, string>;
}

export function workerEnvMessage(env: Record<string, string>): WorkerEnvMessage {
  return { type: "lithops-worker-env", env };
}

export function isWorkerReadyMessage(message: unknown): boolean {
  return isMessageOfType(message, WORKER_READY_MESSAGE.type);
}

export function isWorkerRunningMessage(message: unknown): boolean {
  return isMessageOfType(message, WORKER_RUNNING_MESSAGE.type);
}

function isMessageOfType(message: unknown, type: string): boolean {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === type;
}

/** A WorkerEnvMessage whose variables are all strings (what process.env holds). */
export function isWorkerEnvMessage(message: unknown): message is WorkerEnvMessage {
  if (typeof message !== "object" || message === null) return false;
  const { type, env } = message as { type?: unknown; env?: unknown };
  return type === "lithops-worker-env" && typeof env === "object" && env !== null && Object.values(env).every((value) => typeof value === "string");
}
