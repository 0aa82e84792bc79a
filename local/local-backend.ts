import { closeSync, mkdtempSync, openSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ExecutionBackend, RuntimeTarget } from "../protocol/backend.ts";
import { ENV } from "../protocol/env.ts";
import { runtimeQueues } from "../protocol/runtime-name.ts";
import { connectStorage, type StorageClients, type StorageSettings } from "../protocol/storage-connection.ts";
import { startAzurite, type Azurite } from "./azurite.ts";
import { LocalWorkerScaler } from "./worker-scaler.ts";

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
  private readonly workDir: string;
  private readonly logFd: number;
  private readonly onExit = (): void => this.killAll();

  private constructor(
    readonly storage: StorageSettings,
    private readonly clients: StorageClients,
    private readonly options: LocalBackendOptions,
    private readonly azurite: Azurite | undefined,
  ) {
    this.workDir = mkdtempSync(join(tmpdir(), "lithops-local-"));
    this.logFd = openSync(join(this.workDir, "workers.log"), "a");
    process.once("exit", this.onExit);
  }

  static async start(options: LocalBackendOptions): Promise<LocalBackend> {
    const azurite = options.connectionString ? undefined : await startAzurite();
    const storage: StorageSettings = {
      connectionString: options.connectionString ?? azurite?.connectionString,
      container: options.container,
    };
    const clients = connectStorage(storage);
    try {
      await clients.container.createIfNotExists();
    } catch (error) {
      await azurite?.stop();
      throw new Error(`local backend: cannot reach storage to create container '${options.container}': ${(error as Error).message}`);
    }
    return new LocalBackend(storage, clients, options, azurite);
  }

  /** Where the workers' output goes: functions' console.log lands here. */
  get workerLogPath(): string {
    return join(this.workDir, "workers.log");
  }

  get azuriteEndpoints(): Azurite | undefined {
    return this.azurite;
  }

  async prepareRuntime(name: string, memory: number): Promise<RuntimeTarget> {
    const { queue, poisonQueue } = runtimeQueues(name, memory);
    const target = { name, memory, queue, poisonQueue };
    if (this.scalers.has(queue) || !this.options.startWorkers) return target;
    await Promise.all([
      this.clients.queueService.getQueueClient(queue).createIfNotExists(),
      this.clients.queueService.getQueueClient(poisonQueue).createIfNotExists(),
    ]);
    this.scalers.set(
      queue,
      new LocalWorkerScaler(this.clients.queueService.getQueueClient(queue), {
        maxWorkers: this.options.maxWorkers,
        messagesPerWorker: this.options.workerProcesses,
        cooldownMs: this.options.cooldown * 1000,
        env: this.workerEnv(target),
        logFd: this.logFd,
      }),
    );
    return target;
  }

  submitted(target: RuntimeTarget, messages: number): void {
    this.scalers.get(target.queue)?.poke(messages);
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
    closeSync(this.logFd);
    rmSync(this.workDir, { recursive: true, force: true });
  }

  private killAll(): void {
    for (const scaler of this.scalers.values()) scaler.killAll();
    this.azurite?.kill();
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
    };
    if (this.options.signingKey) env[ENV.signingKey] = this.options.signingKey;
    return env;
  }
}
