import type { Backend, RuntimeTarget } from "../runtime-model/backend.ts";
import { StorageAccountBackend } from "../runtime-model/storage-account-backend.ts";
import { autoDeploy, stackClientConfig } from "./auto-deploy.ts";
import { AzureContainersBackend } from "./azure-backend.ts";
import { resolveConfig, type ExecutorConfig, type ExecutorOptions } from "./config.ts";
import { RuntimeNotDeployedError } from "./errors.ts";
import { JobMonitor } from "./job-monitor.ts";
import type { Logger } from "./logger.ts";

/** A started backend and the monitor that reads its job storage. */
export interface RunningBackend {
  backend: Backend;
  monitor: JobMonitor;
}

/**
 * An executor's backend: started on first use (the local backend's Azurite and workers, or
 * Azure's queues, or a backend the caller handed over), the settings of a bound stack read
 * at that moment, runtimes prepared (and, with autoDeploy, deployed) as calls need them.
 */
export class BackendSession {
  private resolved: ExecutorConfig;
  /** The start, once begun; `running` is set when it succeeded (for the synchronous readers). */
  private start?: { promise: Promise<RunningBackend>; running?: RunningBackend };
  /** autoDeploy runs, one per runtime and memory. */
  private readonly deploys = new Map<string, Promise<void>>();

  constructor(
    private readonly options: ExecutorOptions,
    private readonly log: Logger,
    /** A backend to run on instead of the configured one; its maker closes it. */
    private readonly given?: Backend,
    /** What a Ctrl-C (or SIGTERM, SIGHUP) does before the local backend lets the process end: cancel the unfinished calls. */
    private readonly onInterrupt?: () => Promise<void>,
  ) {
    this.resolved = resolveConfig(options);
  }

  /** The settings; for a client bound to a stack, completed from the stack's clientConfig output when the backend starts. */
  get config(): ExecutorConfig {
    return this.resolved;
  }

  /** The backend, started if needed. */
  running(): Promise<RunningBackend> {
    if (!this.start) {
      const start: { promise: Promise<RunningBackend>; running?: RunningBackend } = { promise: this.startBackend() };
      start.promise.then(
        (running) => {
          start.running = running;
        },
        () => undefined, // reported to whoever awaits the start
      );
      this.start = start;
    }
    return this.start.promise;
  }

  /** The backend if it has started (no start is begun). */
  get started(): RunningBackend | undefined {
    return this.start?.running;
  }

  /** Whether a start was begun: before it, this executor has submitted nothing and has nothing to read or clean. */
  get begun(): boolean {
    return this.start !== undefined;
  }

  /**
   * The runtime's queue. A runtime the bound stack has not deployed is deployed first with
   * autoDeploy (as Lithops deploys the default runtime on first use); otherwise the error
   * names the stack and the command that deploys it.
   */
  async prepareRuntime(backend: Backend, memory: number): Promise<RuntimeTarget> {
    const { runtime, stack } = this.config;
    try {
      return await backend.prepareRuntime(runtime, memory);
    } catch (error) {
      if (!(error instanceof RuntimeNotDeployedError) || !stack) throw error;
      if (!this.config.autoDeploy) {
        throw new RuntimeNotDeployedError(
          `runtime '${runtime}' with ${memory} MB is not deployed in stack '${stack}': deploy it with ` +
            `\`npx lithops-aca runtime deploy ${runtime} --memory ${memory} --stack ${stack}\`, or create the executor with autoDeploy: true`,
        );
      }
      const key = `${runtime}|${memory}`;
      let deploy = this.deploys.get(key);
      if (!deploy) {
        this.log.info(`runtime '${runtime}' (${memory} MB) is not deployed in stack '${stack}': deploying it (autoDeploy)`);
        deploy = autoDeploy(stack, runtime, memory, this.log.info);
        this.deploys.set(key, deploy);
      }
      await deploy;
      return await backend.prepareRuntime(runtime, memory);
    }
  }

  /** Stops the backend this session started (a backend handed over is its maker's to close). */
  async close(): Promise<void> {
    if (!this.start || this.given) return;
    await (await this.start.promise.catch(() => undefined))?.backend.close();
  }

  private async startBackend(): Promise<RunningBackend> {
    const backend = this.given ?? (await this.startConfigured());
    return { backend, monitor: new JobMonitor(backend.jobs, this.config.signingKey ?? backend.signingKey) };
  }

  private async startConfigured(): Promise<Backend> {
    if (this.config.stack) {
      // Bound to a stack: its clientConfig output takes the place of the config file; options still win.
      const stackConfig = await stackClientConfig(this.config.stack);
      this.resolved = resolveConfig({ ...this.options, backend: "azure_containers", stack: this.config.stack, config: stackConfig });
    }
    const config = this.config;
    if (config.backend !== "local") return new StorageAccountBackend(new AzureContainersBackend(config.storage, config.deployedRuntimes, this.log.warn));
    const { LocalBackend } = await import("../local/local-backend.ts");
    return new StorageAccountBackend(
      await LocalBackend.start({
        container: config.storage.container,
        maxWorkers: config.maxWorkers,
        workerProcesses: config.workerProcesses,
        runtimeTimeout: config.runtimeTimeout,
        cooldown: config.local.cooldown,
        visibilityTimeout: config.local.visibilityTimeout,
        maxDeliveries: config.local.maxDeliveries,
        signingKey: config.signingKey,
        dataDir: config.local.dataDir,
        connectionString: config.local.connectionString,
        startWorkers: config.local.startWorkers,
        onInterrupt: config.local.startWorkers ? this.onInterrupt : undefined,
        log: this.log.info,
      }),
    );
  }
}
