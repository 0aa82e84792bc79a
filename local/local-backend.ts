import { randomBytes } from "node:crypto";
import { closeSync, mkdtempSync, openSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { ExecutionBackend, RuntimeTarget } from "../azure/execution-backend.ts";
import { ENV } from "../protocol/env.ts";
import { runtimeQueues } from "../azure/runtime-name.ts";
import { connectStorage, type StorageClients, type StorageSettings } from "../azure/storage-connection.ts";
import { startAzurite, type Azurite } from "./azurite.ts";
import { LOCAL_TERMINATION_GRACE_SECONDS, LocalWorkerScaler } from "./worker-scaler.ts";

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
  /** Attach to a running Azurite (or storage account) instead of starting one. */
  connectionString?: string;
  /** false inside a worker: nested jobs use the workers the outer client already runs. */
  startWorkers: boolean;
  log: (line: string) => void;
}

/**
 * The embedded backend: Azurite started from npm plus local worker processes scaled on
 * queue length, so everything runs on one machine with the same SDK calls as on Azure.
 */
export class LocalBackend implements ExecutionBackend {
  readonly kind = "local" as const;
  private readonly scalers = new Map<string, LocalWorkerScaler>();
  /** Created with the first worker pool: a backend inside a worker (nested jobs) starts no workers and needs none. */
  private workerLog?: { dir: string; fd: number };
  private readonly onExit = (): void => this.killAll();

  private constructor(
    readonly storage: StorageSettings,
    private readonly clients: StorageClients,
    private readonly options: LocalBackendOptions,
    private azurite: Azurite | undefined,
    /** Azurite's data folder, kept across stopStorage()/startStorage() and removed on close. */
    private readonly azuriteData: string | undefined,
  ) {
    process.once("exit", this.onExit);
  }

  static async start(options: LocalBackendOptions): Promise<LocalBackend> {
    // Local workers, like Azure ones, run only signed invocations: a key per backend unless one is configured.
    options = { ...options, signingKey: options.signingKey ?? randomBytes(32).toString("base64url") };
    const azuriteData = options.connectionString ? undefined : mkdtempSync(join(tmpdir(), "lithops-azurite-"));
    let azurite: Azurite | undefined;
    try {
      azurite = azuriteData ? await startAzurite({ location: azuriteData }) : undefined;
    } catch (error) {
      if (azuriteData) rmSync(azuriteData, { recursive: true, force: true });
      throw error;
    }
    const storage: StorageSettings = {
      connectionString: options.connectionString ?? azurite?.connectionString,
      container: options.container,
    };
    const clients = connectStorage(storage);
    try {
      await clients.container.createIfNotExists();
    } catch (error) {
      await azurite?.stop();
      if (azuriteData) rmSync(azuriteData, { recursive: true, force: true });
      throw new Error(`local backend: cannot reach storage to create container '${options.container}': ${(error as Error).message}`);
    }
    return new LocalBackend(storage, clients, options, azurite, azuriteData);
  }

  /** The key this backend's workers verify invocations with (configured, or generated for this backend). */
  get signingKey(): string | undefined {
    return this.options.signingKey;
  }

  /** Stops the embedded Azurite but keeps its data folder and ports: a storage outage, for fault tests. */
  async stopStorage(): Promise<void> {
    await this.embeddedAzurite().stop();
  }

  /** Starts the embedded Azurite again on the same ports with the same data, after stopStorage(). */
  async startStorage(): Promise<void> {
    const { location, blobPort, queuePort } = this.embeddedAzurite();
    for (let attempt = 1; ; attempt += 1) {
      try {
        this.azurite = await startAzurite({ location, blobPort, queuePort });
        return;
      } catch (error) {
        // The old process's ports can take a moment to be free again.
        if (attempt >= 10) throw error;
        await new Promise((resolve) => setTimeout(resolve, 500));
      }
    }
  }

  private embeddedAzurite(): Azurite {
    if (!this.azurite) throw new Error("this local backend uses an external storage (local.connection_string): it has no Azurite to stop or start");
    return this.azurite;
  }

  /** Where the workers' output goes: functions' console.log lands here. */
  get workerLogPath(): string {
    return join(this.openWorkerLog().dir, "workers.log");
  }

  private openWorkerLog(): { dir: string; fd: number } {
    if (!this.workerLog) {
      const dir = mkdtempSync(join(tmpdir(), "lithops-local-"));
      this.workerLog = { dir, fd: openSync(join(dir, "workers.log"), "a") };
    }
    return this.workerLog;
  }

  get azuriteEndpoints(): Azurite | undefined {
    return this.azurite;
  }

  async prepareRuntime(name: string, memory: number): Promise<RuntimeTarget> {
    const { queue, poisonQueue } = runtimeQueues(name, memory);
    const target = { name, memory, queue, poisonQueue };
    if (this.scalers.has(queue) || !this.options.startWorkers) return target;
    const queueClient = this.clients.queueService.getQueueClient(queue);
    await Promise.all([queueClient.createIfNotExists(), this.clients.queueService.getQueueClient(poisonQueue).createIfNotExists()]);
    this.scalers.set(
      queue,
      new LocalWorkerScaler(queueClient, {
        maxWorkers: this.options.maxWorkers,
        messagesPerWorker: this.options.workerProcesses,
        cooldownMs: this.options.cooldown * 1000,
        env: this.workerEnv(target),
        logFd: this.openWorkerLog().fd,
      }),
    );
    return target;
  }

  submitted(target: RuntimeTarget, messages: number): void {
    this.scalers.get(target.queue)?.poke(messages);
  }

  /** Storage requests of the backend itself: queue creation and the scaler's queue-length polls. */
  storageRequests(): number {
    return this.clients.counter.count;
  }

  peakWorkers(): number {
    return Math.max(0, ...[...this.scalers.values()].map((s) => s.peakWorkers));
  }

  /** The worker processes running now (tests kill them to prove nothing is lost). */
  runningWorkers(): number[] {
    return [...this.scalers.values()].flatMap((s) => s.running.map((w) => w.pid ?? -1)).filter((pid) => pid > 0);
  }

  async close(): Promise<void> {
    process.off("exit", this.onExit);
    await Promise.all([...this.scalers.values()].map((s) => s.close()));
    await this.azurite?.stop();
    if (this.azuriteData) rmSync(this.azuriteData, { recursive: true, force: true });
    if (this.workerLog) {
      closeSync(this.workerLog.fd);
      rmSync(this.workerLog.dir, { recursive: true, force: true });
    }
  }

  private killAll(): void {
    for (const scaler of this.scalers.values()) scaler.killAll();
    this.azurite?.kill();
    if (this.azuriteData) rmSync(this.azuriteData, { recursive: true, force: true });
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
      [ENV.terminationGrace]: String(LOCAL_TERMINATION_GRACE_SECONDS),
    };
    if (this.options.signingKey) env[ENV.signingKey] = this.options.signingKey;
    return env;
  }
}
