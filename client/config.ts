import { ConfigError } from "./errors.ts";
import { existsSync, readFileSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { BACKENDS, ENV, type BackendName } from "../protocol/env.ts";
import { MAX_CALLS_PER_MESSAGE } from "../protocol/message.ts";
import { storageSettingsFromEnv } from "../azure/storage-connection.ts";
import { DEFAULT_MAX_WORKERS, DEFAULT_RUNTIME_TIMEOUT_S } from "../runtime-model/defaults.ts";
import { cpuForMemory, DEFAULT_MEMORY_MB } from "../runtime-model/memory.ts";
import { assertRuntimeName, DEFAULT_RUNTIME } from "../azure/runtime-name.ts";
import type { StorageSettings } from "../azure/storage-connection.ts";
import { createLogger } from "./logger.ts";
import { didYouMean } from "./suggest.ts";
import { CONTAINER_NAME, DEFAULT_JOB_CONTAINER } from "../azure/storage-names.ts";

/** Options of `new FunctionExecutor(options)`: they win over the config file. */
export interface ExecutorOptions {
  /** 'local' (Lithops's 'localhost' too) or 'azure_containers'. */
  backend?: BackendName | typeof LOCALHOST;
  /** Runtime name: 'default' or an image reference such as 'myaccount/img:tag'. */
  runtime?: string;
  /** MB, one of the Container Apps sizes (512, 1024, ... 4096, 8192). */
  runtimeMemory?: number;
  /** Seconds a call may run. */
  runtimeTimeout?: number;
  maxWorkers?: number;
  workerProcesses?: number;
  /** A Lithops-style config object, or the path of a YAML file holding one. */
  config?: LithopsConfigInput | string;
  /** One of LOG_LEVELS, in any case ('debug' as Lithops writes it, or 'DEBUG'). */
  logLevel?: LogLevel | Lowercase<LogLevel>;
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

/** Lithops's level names in any case: `log_level: info` as its docs write it. */
const logLevelSchema = z.string().toUpperCase().pipe(z.enum(LOG_LEVELS));

/** Lithops's name for the local backend. */
const LOCALHOST = "localhost";
const backendSchema = z.enum([...BACKENDS, LOCALHOST]).transform((name): BackendName => (name === LOCALHOST ? "local" : name));

const positiveInt = z.number().int().positive();

/** The `lithops` section: Lithops's keys, then this project's own (signing_key, storage_retry_timeout). */
const lithopsSection = z
  .strictObject({
    backend: backendSchema.optional(),
    /** Lithops's execution mode; `backend` wins over it. */
    mode: z.enum([LOCALHOST, "serverless"], { error: "use localhost or serverless (azure_containers); standalone (VM) backends do not exist here" }).optional(),
    storage: z.enum(["azure_storage", LOCALHOST, "local"]).optional(),
    /** Remove the executor's job data when it closes. */
    data_cleaner: z.boolean().optional(),
    monitoring: z.literal("storage", { error: 'use "storage": calls report their status through storage here (there is no RabbitMQ monitor)' }).optional(),
    monitoring_interval: z.number().positive().optional(),
    data_limit: z.union([z.number().positive(), z.literal(false)]).optional(),
    /** Seconds a call may run unless its `timeout` option says otherwise; at most the runtime's timeout. */
    execution_timeout: positiveInt.optional(),
    include_modules: z.array(z.string()).nullable().optional(),
    exclude_modules: z.array(z.string()).nullable().optional(),
    /** Lithops's `null` (no logging) is CRITICAL, a level nothing here logs at. */
    log_level: logLevelSchema
      .nullable()
      .transform((level) => level ?? "CRITICAL")
      .optional(),
    log_format: z.string().optional(),
    log_stream: z.string().optional(),
    log_filename: z.string().nullable().optional(),
    customized_runtime: z.boolean().optional(),
    /** Calls per invocation (queue message) of a map. */
    chunksize: positiveInt.max(MAX_CALLS_PER_MESSAGE).optional(),
    /** Default `retries` of RetryingFunctionExecutor.map. */
    retries: z.number().int().min(0).optional(),
    /** Lithops's older name for max_workers. */
    workers: positiveInt.optional(),
    signing_key: z.string().min(16).optional(),
    /** Seconds the client keeps retrying while storage is unreachable before getResult/wait fail. */
    storage_retry_timeout: z.number().positive().optional(),
  })
  // The mode names a backend when none is given, so every reader of the parsed file sees the same backend.
  .transform((section) => ({ ...section, backend: section.backend ?? (section.mode && (section.mode === LOCALHOST ? "local" : "azure_containers")) }));

/** Lithops's section shared by its Azure backends: all of it is deployment here (see DEPLOYMENT_SETTINGS). */
const azureSection = z.strictObject({
  resource_group: z.string().optional(),
  region: z.string().optional(),
  subscription_id: z.string().optional(),
});

const azureStorageSection = z.strictObject({
  storage_account_name: z.string().min(3).optional(),
  storage_account_key: z.string().min(1).optional(),
  connection_string: z.string().min(1).optional(),
  storage_bucket: z
    .string()
    .regex(CONTAINER_NAME, "not an Azure container name: use 3-63 lower-case letters, digits and single hyphens, starting and ending with a letter or digit")
    .optional(),
  blob_endpoint: z.url().optional(),
  queue_endpoint: z.url().optional(),
});

/** Lithops's keys, then the ones a stack's clientConfig output writes (environment_id, runtimes). */
const azureContainersSection = z.strictObject({
  resource_group: z.string().optional(),
  region: z.string().optional(),
  /** Lithops's older name for region. */
  location: z.string().optional(),
  environment: z.string().optional(),
  docker_server: z.string().optional(),
  docker_user: z.string().optional(),
  docker_password: z.string().optional(),
  runtime: z.string().optional(),
  runtime_memory: positiveInt.optional(),
  runtime_timeout: positiveInt.optional(),
  max_workers: positiveInt.optional(),
  worker_processes: positiveInt.optional(),
  trigger: z.string().optional(),
  /** Lithops's older name for trigger. */
  invocation_type: z.string().optional(),
  invoke_pool_threads: positiveInt.optional(),
  runtime_include_function: z.boolean().optional(),
  environment_id: z.string().optional(),
  runtimes: z
    .array(
      z.strictObject({
        name: z.string(),
        memory: positiveInt,
        queue: z.string(),
        poison_queue: z.string(),
        app: z.string().optional(),
      }),
    )
    .optional(),
});

/** Lithops's local backend section; its worker_processes (parallel calls, one process each) is our local.max_workers. */
const localhostSection = z.strictObject({
  runtime: z.string().optional(),
  version: z.union([z.literal(1), z.literal(2)]).optional(),
  worker_processes: positiveInt.optional(),
});

/** This project's local backend section. */
const localSection = z.strictObject({
  max_workers: positiveInt.optional(),
  worker_processes: positiveInt.optional(),
  runtime_timeout: positiveInt.optional(),
  cooldown: z.number().min(0).optional(),
  visibility_timeout: positiveInt.optional(),
  max_deliveries: positiveInt.optional(),
  connection_string: z.string().min(1).optional(),
  /** Keep the local backend's storage (Azurite data) in this folder across runs; `~` is the home folder. */
  data_dir: z.string().min(1).optional(),
});

/** The YAML file, with Lithops's section and key names. Unknown keys are errors, not silently ignored. */
export const lithopsConfigSchema = z.strictObject({
  lithops: lithopsSection.optional(),
  azure: azureSection.optional(),
  azure_storage: azureStorageSection.optional(),
  azure_containers: azureContainersSection.optional(),
  localhost: localhostSection.optional(),
  local: localSection.optional(),
});

/** A config as written (the `config` option): Lithops's spellings, `log_level: info`, `backend: localhost`. */
export type LithopsConfigInput = z.input<typeof lithopsConfigSchema>;
/** A config as read and checked: log levels upper case, the backend resolved to ours. */
export type LithopsConfigFile = z.output<typeof lithopsConfigSchema>;
export type DeployedRuntime = NonNullable<NonNullable<LithopsConfigFile["azure_containers"]>["runtimes"]>[number];

const RESOURCE_GROUP_SETTING = "set lithops-aca:resourceGroupName in Pulumi.<stack>.yaml (without it the stack creates its own resource group)";
const REGION_SETTING = "set azure-native:location in Pulumi.<stack>.yaml";
const TRIGGER_SETTING =
  "every runtime scales on its queue (KEDA azure-queue rule); how often it checks is lithops-aca:runtimes[].pollingInterval in Pulumi.<stack>.yaml";

/**
 * Lithops keys whose setting is part of the deployment here: where it lives in the stack
 * config (`Pulumi.<stack>.yaml`), which `pulumi up` applies. The client logs each once.
 */
const DEPLOYMENT_SETTINGS: Record<string, string> = {
  "azure.resource_group": RESOURCE_GROUP_SETTING,
  "azure.region": REGION_SETTING,
  "azure.subscription_id": "set azure-native:subscriptionId in Pulumi.<stack>.yaml (or sign in to that subscription with `az login`)",
  "azure_containers.resource_group": RESOURCE_GROUP_SETTING,
  "azure_containers.region": REGION_SETTING,
  "azure_containers.location": REGION_SETTING,
  "azure_containers.environment":
    "set lithops-aca:environment.id (the id of an existing Container Apps environment) in Pulumi.<stack>.yaml; without it the stack creates one",
  "azure_containers.docker_server": "set lithops-aca:registry in Pulumi.<stack>.yaml (type acr, the default, or dockerhub)",
  "azure_containers.docker_user": "set lithops-aca:registry to { type: dockerhub, username: <user> } in Pulumi.<stack>.yaml",
  "azure_containers.docker_password": "store it in the stack with `pulumi config set --secret lithops-aca:dockerHubToken <token>`",
  "azure_containers.trigger": TRIGGER_SETTING,
  "azure_containers.invocation_type": TRIGGER_SETTING,
};

const MODULES_UNUSED = "a function ships with the values it captures; the modules it imports come from the runtime";
const LOG_OUTPUT_FIXED = "log lines go to stderr, as `lithops-aca <LEVEL> [<executor id>] <message>`";
const FUNCTION_SHIPS_WITH_JOB =
  "functions ship with each job; a runtime's packages come from its Dockerfile (lithops-aca:runtimes[].dockerfile in Pulumi.<stack>.yaml)";

/** Lithops keys that are accepted but change nothing here, and why. The client logs each once. */
const NO_EFFECT_HERE: Record<string, string> = {
  "lithops.monitoring_interval": "wait() and getResult() poll storage adaptively, every few ms while calls complete, backing off to 0.5 s",
  "lithops.data_limit": "call arguments of any size go to storage with the job",
  "lithops.include_modules": MODULES_UNUSED,
  "lithops.exclude_modules": MODULES_UNUSED,
  "lithops.log_format": LOG_OUTPUT_FIXED,
  "lithops.log_stream": LOG_OUTPUT_FIXED,
  "lithops.log_filename": LOG_OUTPUT_FIXED,
  "lithops.customized_runtime": FUNCTION_SHIPS_WITH_JOB,
  "azure_containers.runtime_include_function": FUNCTION_SHIPS_WITH_JOB,
  "azure_containers.invoke_pool_threads": "the client sends a job's queue messages concurrently itself, one message per batch of calls",
  "localhost.runtime": "local workers run the worker bundle on this machine's Node.js; runtime images run on azure_containers",
  "localhost.version": "there is one local backend",
};

/** What a stack's clientConfig output writes to describe the stack (not to configure it): no note for these. */
const STACK_DESCRIPTION_KEYS = new Set(["azure_containers.resource_group", "azure_containers.region"]);

/** One line per Lithops key in the file that is a deployment setting here or has no effect here. */
export function unusedKeyNotes(file: LithopsConfigFile): string[] {
  // A config that lists deployed runtimes was written by a stack.
  const writtenByStack = file.azure_containers?.runtimes !== undefined;
  const notes: string[] = [];
  for (const [section, values] of Object.entries(file)) {
    for (const [key, value] of Object.entries(values ?? {})) {
      const path = `${section}.${key}`;
      if (value === undefined || (writtenByStack && STACK_DESCRIPTION_KEYS.has(path))) continue;
      if (path in DEPLOYMENT_SETTINGS) notes.push(`${path} is a deployment setting: ${DEPLOYMENT_SETTINGS[path]}`);
      else if (path in NO_EFFECT_HERE) notes.push(`${path} has no effect here: ${NO_EFFECT_HERE[path]}`);
    }
  }
  return notes;
}

/** Notes already logged by this process: each once, however many executors read the same file. */
const loggedNotes = new Set<string>();

function logNotesOnce(notes: string[], level: LogLevel): void {
  if (LOG_LEVELS.indexOf(level) > LOG_LEVELS.indexOf("INFO")) return;
  const log = createLogger(level, "config");
  for (const note of notes) {
    if (loggedNotes.has(note)) continue;
    loggedNotes.add(note);
    log.info(note);
  }
}

export interface ExecutorConfig {
  backend: BackendName;
  runtime: string;
  runtimeMemory: number;
  runtimeTimeout: number;
  maxWorkers: number;
  workerProcesses: number;
  logLevel: LogLevel;
  progress: boolean;
  /** Seconds a call may run unless its `timeout` option says otherwise (lithops.execution_timeout); at most runtimeTimeout. */
  executionTimeout: number;
  /** Remove the executor's job data when it closes (lithops.data_cleaner). */
  dataCleaner: boolean;
  /** Default `retries` of RetryingFunctionExecutor.map (lithops.retries). */
  retries: number;
  /** Calls per invocation of a map (lithops.chunksize); undefined: the client batches by job size. */
  chunksize?: number;
  signingKey?: string;
  /** Seconds of storage outage wait/getResult ride over (lithops.storage_retry_timeout). */
  storageRetryTimeout: number;
  storage: StorageSettings;
  local: { cooldown: number; visibilityTimeout: number; maxDeliveries: number; connectionString?: string; startWorkers: boolean; dataDir: string };
  /** Runtimes a stack deployed (from its clientConfig output). */
  deployedRuntimes: DeployedRuntime[];
  /** The Pulumi stack whose clientConfig output configures this client (read when the backend starts). */
  stack?: string;
  autoDeploy: boolean;
}

/** The Pulumi stack a client binds to when no `stack` option is given. */
export const STACK_ENV = "LITHOPS_STACK";

/** Where the local backend keeps its storage when local.data_dir does not say. */
export const LOCAL_DATA_DIR_ENV = "LITHOPS_LOCAL_DATA_DIR";

/** The local backend's data folder: local.data_dir, else $LITHOPS_LOCAL_DATA_DIR, else ~/.lithops-aca/local. */
export function resolveLocalDataDir(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return expandHome(setting || env[LOCAL_DATA_DIR_ENV] || join(homedir(), ".lithops-aca", "local"));
}

/** `~` and `~/...` as the home folder, as in the config file's paths. */
export function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** Where Lithops looks for its config file, in order. */
export function configFileCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.LITHOPS_CONFIG_FILE, join(process.cwd(), ".lithops_config"), join(homedir(), ".lithops", "config"), "/etc/lithops/config"].filter(
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

/** The keys the schema allows in the object at `path` (the top level, a section, a runtimes entry). */
function keysAt(path: readonly PropertyKey[]): string[] {
  const unwrap = (node: unknown): unknown => {
    if (node instanceof z.ZodOptional || node instanceof z.ZodNullable) return unwrap(node.unwrap());
    if (node instanceof z.ZodPipe) return unwrap(node.in);
    if (node instanceof z.ZodArray) return unwrap(node.element);
    return node;
  };
  let node = unwrap(lithopsConfigSchema);
  for (const step of path) {
    // An array index: unwrap() already went from the array to its element.
    if (typeof step !== "string") continue;
    node = node instanceof z.ZodObject ? unwrap(node.shape[step]) : undefined;
  }
  return node instanceof z.ZodObject ? Object.keys(node.shape) : [];
}

export function validateConfigFile(raw: unknown, source = "config"): LithopsConfigFile {
  const parsed = lithopsConfigSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    const problems = parsed.error.issues.flatMap((issue) => {
      const key = issue.path.join(".") || "(top level)";
      if (issue.code === "unrecognized_keys") {
        const known = keysAt(issue.path);
        return issue.keys.map((unknown) => `${key}: unknown key ${JSON.stringify(unknown)}: ${didYouMean(unknown, known)}`);
      }
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

/** An option checked by the same schema as its config key, for callers without type checks. */
function checkedOption<T>(schema: z.ZodType<T>, value: unknown, name: string, valid: string): T | undefined {
  if (value === undefined) return undefined;
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new ConfigError(`${name}: ${JSON.stringify(value)} is not valid; use one of ${valid}`);
  return parsed.data;
}

/** Options > config file > (inside a worker) the worker's settings > defaults. */
export function resolveConfig(options: ExecutorOptions = {}, env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  const backendOption = checkedOption(backendSchema, options.backend, "backend", `${BACKENDS.join(", ")} (or ${LOCALHOST}, Lithops's name for local)`);
  const logLevelOption = checkedOption(logLevelSchema, options.logLevel, "logLevel", `${LOG_LEVELS.join(", ")} (in any case)`);
  const file = loadConfigFile(options.config, env);
  const logLevel = logLevelOption ?? file.lithops?.log_level ?? "INFO";
  logNotesOnce(unusedKeyNotes(file), logLevel);
  const inherited = inheritedFromWorker(env);
  // Inside a worker the worker's storage wins: a stack is read only by a client outside the runtimes.
  const stack = inherited ? undefined : (options.stack ?? env[STACK_ENV]) || undefined;
  const backend: BackendName = backendOption ?? file.lithops?.backend ?? inherited?.backend ?? (options.stack ? "azure_containers" : "local");
  if (backend === "azure_containers" && file.lithops?.storage === LOCALHOST) {
    throw new ConfigError(`lithops.storage: "${LOCALHOST}" is storage on this machine, which azure_containers workers cannot reach; use azure_storage`);
  }
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
  const maxWorkers =
    options.maxWorkers ??
    section.max_workers ??
    (backend === "local" ? file.localhost?.worker_processes : undefined) ??
    file.lithops?.workers ??
    (backend === "local" ? availableParallelism() : DEFAULT_MAX_WORKERS);
  for (const [key, value] of [
    ["maxWorkers", maxWorkers],
    ["workerProcesses", workerProcesses],
  ] as const) {
    if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${key}: ${JSON.stringify(value)} is not valid; use a whole number of 1 or more`);
  }
  const storageFile = file.azure_storage ?? {};
  const storage: StorageSettings = inherited?.storage ?? {
    connectionString: storageFile.connection_string,
    accountName: storageFile.storage_account_name,
    accountKey: storageFile.storage_account_key,
    blobEndpoint: storageFile.blob_endpoint,
    queueEndpoint: storageFile.queue_endpoint,
    container: storageFile.storage_bucket ?? DEFAULT_JOB_CONTAINER,
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
    logLevel,
    progress: options.progress ?? true,
    executionTimeout: Math.min(file.lithops?.execution_timeout ?? runtimeTimeout, runtimeTimeout),
    dataCleaner: file.lithops?.data_cleaner ?? false,
    retries: file.lithops?.retries ?? 0,
    chunksize: file.lithops?.chunksize,
    signingKey: file.lithops?.signing_key ?? inherited?.signingKey,
    storageRetryTimeout: file.lithops?.storage_retry_timeout ?? 120,
    storage,
    local: {
      cooldown: local.cooldown ?? 3,
      visibilityTimeout: local.visibility_timeout ?? 10,
      maxDeliveries: local.max_deliveries ?? 3,
      connectionString: local.connection_string ?? (inherited?.backend === "local" ? inherited.storage?.connectionString : undefined),
      startWorkers: inherited === undefined,
      dataDir: resolveLocalDataDir(local.data_dir, env),
    },
    deployedRuntimes: aca.runtimes ?? [],
    stack: backend === "azure_containers" ? stack : undefined,
    autoDeploy: options.autoDeploy ?? false,
  };
}
