import type { BackendName } from "../protocol/env.ts";
import type { StorageSettings } from "../azure/storage-connection.ts";

/** A deployed (or locally served) runtime that calls can be sent to. */
export interface RuntimeTarget {
  name: string;
  memory: number;
  queue: string;
  poisonQueue: string;
}

/**
 * A storage-account backend (the local backend and Azure Container Apps): where storage
 * is, which queue serves a runtime, and a chance to start workers. The executor runs on it
 * through a StorageAccountBackend (runtime-model/storage-account-backend.ts).
 */
export interface ExecutionBackend {
  readonly kind: BackendName;
  readonly storage: StorageSettings;
  /** Key the runtime's workers verify invocations with, when the backend chose it (local: generated per backend). */
  readonly signingKey?: string;
  /**
   * Resolves the runtime's queues; fails with a clear error if the runtime cannot serve calls.
   * `queue`: the queue a job's manifest names (attach), where it differs from this client's own
   * (the local backend's per-program queues).
   */
  prepareRuntime(name: string, memory: number, queue?: string): Promise<RuntimeTarget>;
  /** Told after messages were queued, so a local backend can scale up before its next poll. */
  submitted(target: RuntimeTarget, messages: number): void;
  /** Most workers that ran at once, where the backend knows it. */
  peakWorkers(): number | undefined;
  /** The replicas it started, where the backend records them (local); Azure's are inferred from call stats (client/cost.ts). */
  replicaLifetimes?(): ReplicaLifetime[];
  /** Why its workers cannot start, once it knows (local: they keep ending before taking messages); waits fail with it. */
  workerStartFailure?(): Error | undefined;
  close(): Promise<void>;
}

/** A job document as a listing shows it: its key and a tag that changes whenever it is rewritten. */
export interface JobDocument {
  name: string;
  etag: string;
}

/**
 * Where a job's documents live (payloads, manifest, batch status and progress, under the
 * keys of protocol/keys.ts): a blob container, or memory for tests.
 */
export interface JobStorage {
  put(key: string, bytes: Uint8Array): Promise<void>;
  /** The document's bytes, or undefined when there is none. */
  get(key: string): Promise<Buffer | undefined>;
  /** Every document whose key starts with `prefix`. */
  list(prefix: string): AsyncIterable<JobDocument>;
  /** The keys one level below `prefix` (up to the next "/", which they end with). */
  listFolders(prefix: string): AsyncIterable<string>;
  /** Removes the document; no error when there is none. */
  delete(key: string): Promise<void>;
  /** Requests made so far. */
  requests(): number;
}

/**
 * What a FunctionExecutor runs on: job storage, runtimes that take call messages, and the
 * workers behind them. Storage-account backends (local, Azure) fit through
 * StorageAccountBackend; the in-memory one (client/testing/memory-backend.ts) runs calls
 * in this process.
 */
export interface Backend {
  readonly jobs: JobStorage;
  /** Key the runtime's workers verify invocations with, when the backend chose it. */
  readonly signingKey?: string;
  /** The storage-account backend underneath; none for a backend without a storage account. */
  readonly account?: ExecutionBackend;
  /** Resolves the runtime's queue (`queue`: the one a job's manifest names, for attach); fails with a clear error if the runtime cannot serve calls. */
  prepareRuntime(name: string, memory: number, queue?: string): Promise<RuntimeTarget>;
  /** Queues call messages (protocol/message.ts) for the runtime's workers; 0 messages just pokes them. */
  send(target: RuntimeTarget, messages: readonly string[]): Promise<void>;
  /** Most workers that ran at once, where the backend knows it. */
  peakWorkers(): number | undefined;
  /** Why its workers cannot start, once it knows; waits fail with it. */
  workerStartFailure?(): Error | undefined;
  close(): Promise<void>;
}

/** One worker replica's life, for cost estimates: the runtime memory it ran at, when it started and stopped (none: still running). */
export interface ReplicaLifetime {
  workerId: string;
  memory: number;
  started: number;
  stopped?: number;
}
