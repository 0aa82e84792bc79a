import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { BACKENDS, ENV, type BackendName } from "../protocol/env.ts";
import { storageSettingsFromEnv } from "../azure/storage-connection.ts";
import { DEFAULT_MAX_WORKERS, DEFAULT_RUNTIME_TIMEOUT_S } from "../azure/runtime-defaults.ts";
import { cpuForMemory, DEFAULT_MEMORY_MB } from "../azure/memory.ts";
import { assertRuntimeName, DEFAULT_RUNTIME } from "../azure/runtime-name.ts";
import type { StorageSettings } from "../azure/storage-connection.ts";
import { LithopsError } from "./errors.ts";

/** Options of `new FunctionExecutor(options)`: they win over the config file. */
export interface ExecutorOptions {
  backend?: BackendName;
  /** Runtime name: 'default' or an image reference such as 'myaccount/img:tag'. */
  runtime?: string;
  /** MB, one of the Container Apps sizes (512, 1024, ... 4096, 8192). */
  runtimeMemory?: number;
  /** Seconds a call may run. */
  runtimeTimeout?: number;
  maxWorkers?: number;
  workerProcesses?: number;
  /** A Lithops-style config object, or the path of a YAML file holding one. */
  config?: LithopsConfigFile | string;
  logLevel?: LogLevel;
  /** Progress bar on getResult/wait when the output is a terminal; default true. */
  progress?: boolean;
  /**
   * A Pulumi stack of this project (or env LITHOPS_STACK): the client reads the stack's
   * `clientConfig` output when the backend starts, so no config file is needed. Implies
   * backend 'azure_containers' unless a backend is given.
   */
  stack?: string;
  /** With `stack`: deploy a runtime that is not deployed yet (`runtime deploy`) instead of failing. */
  autoDeploy?: boolean;
}

export const LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const positiveInt = z.number().int().positive();

/** The YAML file, with Lithops's section and key names. Unknown keys are errors, not silently ignored. */
export const lithopsConfigSchema = z
  .object({
    lithops: z
      .object({
        backend: z.enum(BACKENDS).optional(),
        storage: z.enum(["azure_storage", "local"]).optional(),
        log_level: z.enum(LOG_LEVELS).optional(),
        signing_key: z.string().min(16).optional(),
        /** Seconds the client keeps retrying while storage is unreachable before getResult/wait fail. */
        storage_retry_timeout: z.number().positive().optional(),
      })
      .strict()
      .optional(),
    azure_storage: z
      .object({
        storage_account_name: z.string().min(3).optional(),
        storage_account_key: z.string().min(1).optional(),
        connection_string: z.string().min(1).optional(),
        storage_bucket: z
          .string()
          .regex(/^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/, "not an Azure container name: use 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit")
          .optional(),
        blob_endpoint: z.url().optional(),
        queue_endpoint: z.url().optional(),
      })
      .strict()
      .optional(),
    azure_containers: z
      .object({
        resource_group: z.string().optional(),
        region: z.string().optional(),
        environment_id: z.string().optional(),
        runtime: z.string().optional(),
        runtime_memory: positiveInt.optional(),
        runtime_timeout: positiveInt.optional(),
        max_workers: positiveInt.optional(),
        worker_processes: positiveInt.optional(),
        runtimes: z
          .array(
            z
              .object({
                name: z.string(),
                memory: positiveInt,
                queue: z.string(),
                poison_queue: z.string(),
                app: z.string().optional(),
              })
              .strict(),
          )
          .optional(),
      })
      .strict()
      .optional(),
    local: z
      .object({
        max_workers: positiveInt.optional(),
        worker_processes: positiveInt.optional(),
        runtime_timeout: positiveInt.optional(),
        cooldown: z.number().min(0).optional(),
        visibility_timeout: positiveInt.optional(),
        max_deliveries: positiveInt.optional(),
        connection_string: z.string().min(1).optional(),
        /** Keep the local backend's storage (Azurite data) in this folder across runs; `~` is the home folder. */
        data_dir: z.string().min(1).optional(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type LithopsConfigFile = z.input<typeof lithopsConfigSchema>;
export type DeployedRuntime = NonNullable<NonNullable<z.output<typeof lithopsConfigSchema>["azure_containers"]>["runtimes"]>[number];

export interface ExecutorConfig {
  backend: BackendName;
  runtime: string;
  runtimeMemory: number;
  runtimeTimeout: number;
  maxWorkers: number;
  workerProcesses: number;
  logLevel: LogLevel;
  progress: boolean;
  signingKey?: string;
  /** Seconds of storage outage wait/getResult ride over (lithops.storage_retry_timeout). */
  storageRetryTimeout: number;
  storage: StorageSettings;
  local: { cooldown: number; visibilityTimeout: number; maxDeliveries: number; connectionString?: string; startWorkers: boolean; dataDir?: string };
  /** Runtimes a stack deployed (from its clientConfig output). */
  deployedRuntimes: DeployedRuntime[];
  /** The Pulumi stack whose clientConfig output configures this client (read when the backend starts). */
  stack?: string;
  autoDeploy: boolean;
}

/** The Pulumi stack a client binds to when no `stack` option is given. */
export const STACK_ENV = "LITHOPS_STACK";

/** `~` and `~/...` as the home folder, as in the config file's paths. */
export function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

export class ConfigError extends LithopsError {
  override name = "ConfigError";
}

export const DEFAULT_CONTAINER = "lithops-jobs";

/** Where Lithops looks for its config file, in order. */
export function configFileCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.LITHOPS_CONFIG_FILE, join(process.cwd(), ".lithops_config"), join(homedir(), ".lithops", "config")].filter(
    (path): path is string => Boolean(path),
  );
}

export function readConfigFile(path: string): LithopsConfigFile {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    throw new ConfigError(`config file ${path} cannot be read: ${(error as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
  }
  return validateConfigFile(raw, `config file ${path}`);
}

const SECRET_KEYS = new Set(["storage_account_key", "connection_string", "signing_key"]);

export function validateConfigFile(raw: unknown, source = "config"): LithopsConfigFile {
  const parsed = lithopsConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const key = issue.path.join(".") || "(top level)";
      // Name the bad value itself, except secrets; objects are described by the key names in the message already.
      const shown = issue.input !== undefined && typeof issue.input !== "object" && !SECRET_KEYS.has(String(issue.path.at(-1)));
      const got = shown ? ` (got ${typeof issue.input === "string" ? JSON.stringify(issue.input) : String(issue.input)})` : "";
      return `${key}: ${issue.message}${got}`;
    });
    throw new ConfigError(`${source} is invalid:\n  ${problems.join("\n  ")}`);
  }
  return parsed.data;
}

function loadConfigFile(option: ExecutorOptions["config"], env: NodeJS.ProcessEnv): LithopsConfigFile {
  if (typeof option === "string") return readConfigFile(option);
  if (option !== undefined) return validateConfigFile(option, "config option");
  const found = configFileCandidates(env).find((path) => existsSync(path));
  return found ? readConfigFile(found) : {};
}

/** Inside a worker, a new executor inherits the worker's backend, storage and runtime (nested jobs). */
function inheritedFromWorker(env: NodeJS.ProcessEnv): Partial<ExecutorConfig> | undefined {
  const storage = storageSettingsFromEnv(env);
  if (!storage) return undefined;
  const backend = env[ENV.backend] === "local" ? "local" : "azure_containers";
  return {
    backend,
    runtime: env[ENV.runtimeName],
    runtimeMemory: env[ENV.runtimeMemory] ? Number(env[ENV.runtimeMemory]) : undefined,
    signingKey: env[ENV.signingKey],
    storage,
  };
}

/** Options > config file > (inside a worker) the worker's settings > defaults. */
export function resolveConfig(options: ExecutorOptions = {}, env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  if (options.backend !== undefined && !(BACKENDS as readonly string[]).includes(options.backend)) {
    throw new ConfigError(`backend: ${JSON.stringify(options.backend)} is not a backend; use one of ${BACKENDS.join(", ")}`);
  }
  const file = loadConfigFile(options.config, env);
  const inherited = inheritedFromWorker(env);
  // Inside a worker the worker's storage wins: a stack is read only by a client outside the runtimes.
  const stack = inherited ? undefined : (options.stack ?? env[STACK_ENV]) || undefined;
  const backend: BackendName = options.backend ?? file.lithops?.backend ?? inherited?.backend ?? (options.stack ? "azure_containers" : "local");
  const aca = file.azure_containers ?? {};
  const local = file.local ?? {};
  const section = backend === "local" ? local : aca;
  const runtime = assertRuntimeName(options.runtime ?? aca.runtime ?? inherited?.runtime ?? DEFAULT_RUNTIME, "runtime");
  const runtimeMemory = options.runtimeMemory ?? aca.runtime_memory ?? inherited?.runtimeMemory ?? DEFAULT_MEMORY_MB;
  try {
    cpuForMemory(runtimeMemory, "runtime_memory");
  } catch (error) {
    throw new ConfigError((error as Error).message);
  }
  const workerProcesses = options.workerProcesses ?? section.worker_processes ?? 1;
  const maxWorkers = options.maxWorkers ?? section.max_workers ?? (backend === "local" ? availableParallelism() : DEFAULT_MAX_WORKERS);
  for (const [key, value] of [["maxWorkers", maxWorkers], ["workerProcesses", workerProcesses]] as const) {
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${key}: ${JSON.stringify(value)} is not valid; use a whole number of 1 or more`);
  }
  const storageFile = file.azure_storage ?? {};
  const storage: StorageSettings = inherited?.storage ?? {
    connectionString: storageFile.connection_string,
    accountName: storageFile.storage_account_name,
    accountKey: storageFile.storage_account_key,
    blobEndpoint: storageFile.blob_endpoint,
    queueEndpoint: storageFile.queue_endpoint,
    container: storageFile.storage_bucket ?? DEFAULT_CONTAINER,
  };
  if (backend === "azure_containers" && !stack && !storage.connectionString && !storage.accountName) {
    throw new ConfigError(
      "backend azure_containers needs azure_storage.storage_account_name (or connection_string) in the config; `pulumi stack output clientConfig --show-secrets > .lithops_config` writes one",
    );
  }
  const runtimeTimeout = options.runtimeTimeout ?? section.runtime_timeout ?? DEFAULT_RUNTIME_TIMEOUT_S;
  return {
    backend,
    runtime,
    runtimeMemory,
    runtimeTimeout,
    maxWorkers,
    workerProcesses,
    logLevel: options.logLevel ?? file.lithops?.log_level ?? "INFO",
    progress: options.progress ?? true,
    signingKey: file.lithops?.signing_key ?? inherited?.signingKey,
    storageRetryTimeout: file.lithops?.storage_retry_timeout ?? 120,
    storage,
    local: {
      cooldown: local.cooldown ?? 3,
      visibilityTimeout: local.visibility_timeout ?? 10,
      maxDeliveries: local.max_deliveries ?? 3,
      connectionString: local.connection_string ?? (inherited?.backend === "local" ? inherited.storage?.connectionString : undefined),
      startWorkers: inherited === undefined,
      dataDir: local.data_dir ? expandHome(local.data_dir) : undefined,
    },
    deployedRuntimes: aca.runtimes ?? [],
    stack: backend === "azure_containers" ? stack : undefined,
    autoDeploy: options.autoDeploy ?? false,
  };
}
