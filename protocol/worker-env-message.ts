/**
 * The local backend starts its first worker process before Azurite is up and before it knows
 * the runtime (local/worker-scaler.ts's SpareWorker), so that loading the worker overlaps
 * Azurite's start. Such a worker (ENV.envFromParent) says it is ready over its IPC channel and
 * waits; the scaler that adopts it answers with the variables a worker of its runtime gets.
 */

/** Sent by a waiting worker once it listens for its environment (a message sent earlier would be lost). */
export const WORKER_READY_MESSAGE = { type: "lithops-worker-ready" } as const;

export interface WorkerEnvMessage {
  type: "lithops-worker-env";
  env: Record<string, string>;
}

export function workerEnvMessage(env: Record<string, string>): WorkerEnvMessage {
  return { type: "lithops-worker-env", env };
}

export function isWorkerReadyMessage(message: unknown): boolean {
  return typeof message === "object" && message !== null && (message as { type?: unknown }).type === WORKER_READY_MESSAGE.type;
}

/** A WorkerEnvMessage whose variables are all strings (what process.env holds). */
export function isWorkerEnvMessage(message: unknown): message is WorkerEnvMessage {
  if (typeof message !== "object" || message === null) return false;
  const { type, env } = message as { type?: unknown; env?: unknown };
  return type === "lithops-worker-env" && typeof env === "object" && env !== null && Object.values(env).every((value) => typeof value === "string");
}
