import type { BackendName } from "../protocol/env.ts";
import type { StorageSettings } from "../azure/storage-connection.ts";

/** A deployed (or locally served) runtime that calls can be sent to. */
export interface RuntimeTarget {
  name: string;
  memory: number;
  queue: string;
  poisonQueue: string;
}

/** One worker replica's life, for cost estimates: the runtime memory it ran at, when it started and stopped (none: still running). */
export interface ReplicaLifetime {
  workerId: string;
  memory: number;
  started: number;
  stopped?: number;
}

/**
 * What the client needs from a backend: where storage is, which queue serves a runtime,
 * and a chance to start workers. The local backend and Azure Container Apps both fit.
 */
export interface ExecutionBackend {
  readonly kind: BackendName;
  readonly storage: StorageSettings;
  /** Key the runtime's workers verify invocations with, when the backend chose it (local: generated per backend). */
  readonly signingKey?: string;
  /** Resolves the runtime's queues; fails with a clear error if the runtime cannot serve calls. */
  prepareRuntime(name: string, memory: number): Promise<RuntimeTarget>;
  /** Told after messages were queued, so a local backend can scale up before its next poll. */
  submitted(target: RuntimeTarget, messages: number): void;
  /** Most workers that ran at once, where the backend knows it. */
  peakWorkers(): number | undefined;
  /** The replicas it started, where the backend records them (local); Azure's are inferred from call stats (client/cost.ts). */
  replicaLifetimes?(): ReplicaLifetime[];
  close(): Promise<void>;
}
