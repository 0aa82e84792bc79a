import { randomBytes } from "node:crypto";
import { closeSync, openSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import type { ExecutionBackend, ReplicaLifetime, RuntimeTarget } from "../runtime-model/backend.ts";
import { ENV } from "../protocol/env.ts";
import { LithopsError } from "../protocol/errors.ts";
import { programQueues, queuesNamed, runtimeQueues } from "../azure/runtime-name.ts";
import { connectStorage, type StorageClients, type StorageSettings } from "../azure/storage-connection.ts";
import { openLocalStorage, type LocalStorage } from "./data-dir.ts";
import { onInterrupt, onProcessEnd } from "./process-end.ts";
import { delayStorageEndpoints, type StorageProxy, storageDelayFromEnv } from "./storage-delay-proxy.ts";
import { ownedTempDir, sweepOrphanedTempDirs, TEMP_PREFIXES } from "./temp-folders.ts";
import { WorkerStartError } from "./errors.ts";
import { LOCAL_TERMINATION_GRACE_SECONDS, LocalWorkerScaler, MAX_FAILED_STARTS, WaitingWorker } from "./worker-scaler.ts";

/**
 * The folder of the program that runs the client (its main script's, or the current folder
 * in a REPL): local workers resolve a function's imports from there, as an image resolves
 * them from the packages its Dockerfile installed.
 */
export function userProjectDir(): string {
  const main = process.argv[1];
  if (!main) return process.cwd();
  try {
    return dirname(realpathSync(main));
  } catch {
    return process.cwd();
  }
}

export interface LocalBackendOptions {
  /** Blob container for job data. */
  container: string;
  maxWorkers: number;
  workerProcesses: number;
  runtimeTimeout: number;
  /** Seconds without queued work before workers are stopped. */
  cooldown: number;
  /** Seconds a worker holds a message before another may take it (renewed while it runs). */
  visibilityTimeout: number;
  maxDeliveries: number;
  signingKey?: string;
  /** The data folder whose Azurite (shared by every process using the folder) holds the storage. */
  dataDir: string;
  /** Use this storage (a running Azurite, or a storage account) instead of the data folder's. */
  connectionString?: string;
  /** false inside a worker: nested jobs use the workers the outer client already runs. */
  startWorkers: boolean;
  /** Run when a signal ends the process, before its workers are stopped (process-end.ts's onInterrupt): the client cancels its unfinished calls. */
  onInterrupt?: () => Promise<void>;
  /** The program whose queues calls go to (a worker's nested job: the program running it); default a new id for this backend. */
  programId?: string;
  log: (line: string) => void;
}

/**
 * The embedded backend: the data folder's Azurite plus local worker processes scaled on
 * queue length, so everything runs on one machine with the same SDK calls as on Azure.
 * Processes using one data folder share its storage (objects, job data, one signing key),
 * but each program's calls go to queues of its own (programQueues): its workers, which
 * resolve packages from its project, run them, and no other program's unless one attaches.
 */
export class LocalBackend implements ExecutionBackend {
  readonly kind = "local" as const;
  private readonly scalers = new Map<string, LocalWorkerScaler>();
  /** The memory size of each scaled queue's runtime: the cpu/memory pair its replicas are billed at. */
  private readonly queueMemory = new Map<string, number>();
  /** Unregisters abandon() from the process's end (close() does the same work properly). */
  private readonly forgetOnEnd = onProcessEnd(() => this.abandon());
  /** Unregisters the client's interrupt step (options.onInterrupt). */
  private readonly forgetOnInterrupt: () => void;

  private constructor(
    readonly storage: StorageSettings,
    private readonly clients: StorageClients,
    private readonly options: LocalBackendOptions,
    /** The data folder's storage; none with local.connection_string. */
    private readonly dataStorage: LocalStorage | undefined,
    /** The delaying proxies in front of the data folder's Azurite (storage-delay-proxy.ts); none unless asked for. */
    private readonly delayProxies: StorageProxy[],
    /** The workers' output file; none inside a worker (nested jobs start no workers). */
    private workerLog: WorkerLog | undefined,
    /** The first worker process, started beside Azurite; the first runtime prepared adopts it. */
    private readonly spare: WaitingWorker | undefined,
  ) {
    // Inside a worker (a nested job) the calls belong to the program whose worker runs them.
    this.programId = options.programId ?? (options.startWorkers ? undefined : process.env[ENV.programId]) ?? randomBytes(4).toString("hex");
    this.forgetOnInterrupt = options.onInterrupt ? onInterrupt(options.onInterrupt) : () => undefined;
  }

  /** Appended to the runtime queues' names: this program's calls go to queues of their own. */
  readonly programId: string;

  static async start(options: LocalBackendOptions): Promise<LocalBackend> {
    // What earlier clients killed with SIGKILL left behind.
    sweepOrphanedTempDirs();
    // The first worker process starts now, so that it loads while Azurite starts (worker-scaler.ts's WaitingWorker).
    const workerLog = options.startWorkers ? newWorkerLog() : undefined;
    const spare = workerLog && new WaitingWorker(workerLog.fd);
    const dataStorage = options.connectionString
      ? undefined
      : await openLocalStorage(options.dataDir).catch((error: unknown) => {
          spare?.stop();
          removeWorkerLog(workerLog);
          throw error;
        });
    // Local workers, like Azure ones, run only signed invocations: the configured key, else the
    // data folder's (its processes share the runtime queues), else one for this backend.
    options = { ...options, signingKey: options.signingKey ?? dataStorage?.signingKey ?? randomBytes(32).toString("base64url") };
    // Azure-like latency for benchmarks: client, scaler and workers all get the proxies' endpoints. Only
    // in front of the folder's own Azurite: a nested job's storage already goes through its client's proxies.
    const delayMs = dataStorage ? storageDelayFromEnv(process.env) : undefined;
    const delayed = dataStorage && delayMs !== undefined ? await delayStorageEndpoints(dataStorage.connectionString, { delayMs }) : undefined;
    const storage: StorageSettings = {
      connectionString: options.connectionString ?? delayed?.connectionString ?? dataStorage?.connectionString,
      container: options.container,
    };
    const clients = connectStorage(storage);
    const proxies = delayed?.proxies ?? [];
    try {
      await clients.container.createIfNotExists();
    } catch (error) {
      spare?.stop();
      removeWorkerLog(workerLog);
      await Promise.all(proxies.map((p) => p.close()));
      await dataStorage?.close();
      throw new LithopsError(`local backend: cannot reach storage to create container '${options.container}': ${(error as Error).message}`);
    }
    return new LocalBackend(storage, clients, options, dataStorage, proxies, workerLog, spare);
  }

  /** The key this backend's workers verify invocations with (configured, or generated for this backend). */
  get signingKey(): string | undefined {
    return this.options.signingKey;
  }

  /** Stops the data folder's Azurite but keeps its data and ports: a storage outage, for fault tests. */
  async stopStorage(): Promise<void> {
    await this.folderStorage().stopServer();
  }

  /** Starts the data folder's Azurite again on the same ports with the same data, after stopStorage(). */
  async startStorage(): Promise<void> {
    await this.folderStorage().startServer();
  }

  private folderStorage(): LocalStorage {
    if (!this.dataStorage) throw new LithopsError("this local backend uses an external storage (local.connection_string): it has no Azurite to stop or start");
    return this.dataStorage;
  }

  /** Where the workers' output goes: functions' console.log lands here. */
  get workerLogPath(): string {
    return join(this.openWorkerLog().dir, "workers.log");
  }

  private openWorkerLog(): WorkerLog {
    this.workerLog ??= newWorkerLog();
    return this.workerLog;
  }

  /** Where the data folder's Azurite listens; none with local.connection_string. */
  get azuriteEndpoints(): LocalStorage["endpoints"] | undefined {
    return this.dataStorage?.endpoints;
  }

  /** This program's queues for the runtime; with `queue` (a job's manifest names it, for attach), that job's queues, which this program's workers then serve too. */
  async prepareRuntime(name: string, memory: number, queue?: string): Promise<RuntimeTarget> {
    const queues = queue ? queuesNamed(queue) : programQueues(runtimeQueues(name, memory), this.programId);
    const target = { name, memory, ...queues };
    if (this.scalers.has(target.queue) || !this.options.startWorkers) return target;
    const queueClient = this.clients.queueService.getQueueClient(target.queue);
    await Promise.all([queueClient.createIfNotExists(), this.clients.queueService.getQueueClient(target.poisonQueue).createIfNotExists()]);
    this.queueMemory.set(target.queue, memory);
    const scaler = new LocalWorkerScaler(queueClient, {
      maxWorkers: this.options.maxWorkers,
      messagesPerWorker: this.options.workerProcesses,
      cooldownMs: this.options.cooldown * 1000,
      env: this.workerEnv(target),
      logFd: this.openWorkerLog().fd,
      spare: this.spare,
    });
    this.scalers.set(target.queue, scaler);
    // A runtime is prepared to submit to it: its first worker starts now, in parallel with the batching and uploads.
    scaler.prestart();
    return target;
  }

  submitted(target: RuntimeTarget, messages: number): void {
    this.scalers.get(target.queue)?.poke(messages);
  }

  /** Storage requests of the backend itself: queue creation and the scaler's queue-length polls. */
  storageRequests(): number {
    return this.clients.counter.count;
  }

  /** Requests the delaying proxies forwarded (client, scaler and workers together); undefined without LITHOPS_LOCAL_STORAGE_DELAY_MS. */
  proxiedRequests(): number | undefined {
    return this.delayProxies.length > 0 ? this.delayProxies.reduce((sum, p) => sum + p.count, 0) : undefined;
  }

  /** The proxied requests by kind (storage-delay-proxy.ts's requestKind and the status), blob and queue together. */
  proxiedRequestKinds(): Map<string, number> {
    const kinds = new Map<string, number>();
    for (const proxy of this.delayProxies) for (const [kind, n] of proxy.kinds) kinds.set(kind, (kinds.get(kind) ?? 0) + n);
    return kinds;
  }

  peakWorkers(): number {
    return Math.max(0, ...[...this.scalers.values()].map((s) => s.peakWorkers));
  }

  replicaLifetimes(): ReplicaLifetime[] {
    return [...this.scalers].flatMap(([queue, scaler]) => scaler.workerLifetimes.map((life) => ({ ...life, memory: this.queueMemory.get(queue) ?? 0 })));
  }

  /** Why a runtime's workers cannot start: MAX_FAILED_STARTS in a row exited with an error before taking messages; the end of their log says why. */
  workerStartFailure(): WorkerStartError | undefined {
    const queue = [...this.scalers].find(([, scaler]) => scaler.failing)?.[0];
    if (queue === undefined) return undefined;
    return new WorkerStartError(
      `local worker processes for queue '${queue}' exited with an error ${MAX_FAILED_STARTS} times in a row before they took a message, so no more are started ` +
        `and its calls cannot run; the end of the workers' log (${this.workerLogPath}):\n${logTail(this.workerLogPath)}`,
    );
  }

  /** The worker processes running now (tests kill them to prove nothing is lost). */
  runningWorkers(): number[] {
    return [...this.scalers.values()].flatMap((s) => s.running.map((w) => w.pid ?? -1)).filter((pid) => pid > 0);
  }

  async close(): Promise<void> {
    this.forgetOnEnd();
    this.forgetOnInterrupt();
    this.spare?.stop();
    await Promise.all([...this.scalers.values()].map((s) => s.close()));
    await Promise.all(this.delayProxies.map((p) => p.close()));
    await this.dataStorage?.close();
    this.removeWorkerLog();
  }

  /**
   * The process is ending without close() (synchronous: see process-end.ts): the workers get
   * SIGTERM and, with this process gone, their watchdog kills them within 1 s; the data
   * folder's lease goes with data-dir.ts's own cleanup, and Azurite stops if it was the last.
   */
  private abandon(): void {
    this.spare?.stop();
    for (const scaler of this.scalers.values()) scaler.signalAll("SIGTERM");
    this.removeWorkerLog();
  }

  private removeWorkerLog(): void {
    removeWorkerLog(this.workerLog);
    this.workerLog = undefined;
  }

  /** The same variables the Pulumi runtime component gives a container, pointed at local storage. */
  private workerEnv(target: RuntimeTarget): Record<string, string> {
    const env: Record<string, string> = {
      [ENV.backend]: "local",
      [ENV.connectionString]: this.storage.connectionString ?? "",
      [ENV.container]: this.options.container,
      [ENV.queue]: target.queue,
      [ENV.poisonQueue]: target.poisonQueue,
      [ENV.runtimeName]: target.name,
      [ENV.runtimeMemory]: String(target.memory),
      [ENV.runtimeTimeout]: String(this.options.runtimeTimeout),
      [ENV.workerProcesses]: String(this.options.workerProcesses),
      [ENV.visibilityTimeout]: String(this.options.visibilityTimeout),
      [ENV.maxDeliveries]: String(this.options.maxDeliveries),
      [ENV.functionDir]: userProjectDir(),
      [ENV.programId]: this.programId,
      [ENV.terminationGrace]: String(LOCAL_TERMINATION_GRACE_SECONDS),
    };
    if (this.options.signingKey) env[ENV.signingKey] = this.options.signingKey;
    return env;
  }
}

interface WorkerLog {
  dir: string;
  fd: number;
}

/** A private temporary file for the workers' output: functions' console.log lands here. */
function newWorkerLog(): WorkerLog {
  const dir = ownedTempDir(TEMP_PREFIXES.workerLog);
  return { dir, fd: openSync(join(dir, "workers.log"), "a") };
}

function removeWorkerLog(log: WorkerLog | undefined): void {
  if (!log) return;
  closeSync(log.fd);
  rmSync(log.dir, { recursive: true, force: true });
}

const LOG_TAIL_BYTES = 2000;

/** The last whole lines of a log, at most LOG_TAIL_BYTES of it. */
function logTail(path: string): string {
  try {
    const text = readFileSync(path, "utf8");
    if (text.length <= LOG_TAIL_BYTES) return text.trim();
    return text.slice(-LOG_TAIL_BYTES).split("\n").slice(1).join("\n").trim();
  } catch {
    return "(the log cannot be read)";
  }
}
