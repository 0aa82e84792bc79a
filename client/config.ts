import { existsSync } from "node:fs";
import { availableParallelism, homedir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { assertRuntimeName, DEFAULT_RUNTIME } from "../azure/runtime-name.ts";
import type { StorageSettings } from "../azure/storage-connection.ts";
import { storageSettingsFromEnv } from "../azure/storage-connection.ts";
import { DEFAULT_JOB_CONTAINER } from "../azure/storage-names.ts";
import { type BackendName, ENV } from "../protocol/env.ts";
import { isSecretKey } from "../runtime-model/config-issues.ts";
import { DEFAULT_MAX_WORKERS, DEFAULT_RUNTIME_TIMEOUT_S } from "../runtime-model/defaults.ts";
import { DEFAULT_MEMORY_MB } from "../runtime-model/memory.ts";
import {
  configFileCandidates,
  LOCALHOST,
  type DeployedRuntime,
  type LithopsConfigFile,
  readConfigFile,
  unusedKeyNotes,
  validateConfigFile,
} from "./config-file.ts";
import type { CostSection } from "./cost.ts";
import { ConfigError } from "./errors.ts";
import { type LogLevel, logOnce } from "./logger.ts";
import { type CheckedExecutorOptions, checkExecutorOptions, type ExecutorOptions } from "./options.ts";

/**
 * The executor's settings, resolved from its options, the config file, (inside a worker) the
 * worker's settings and the defaults, in the order PRECEDENCE gives for each setting.
 */

export type { ExecutorOptions } from "./options.ts";
export { configFileCandidates, readConfigFile, validateConfigFile, type DeployedRuntime, type LithopsConfigFile } from "./config-file.ts";

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
  /** The `cost:` section: prices and cooldown for fexec.cost(). */
  cost: CostSection;
  /** The Pulumi stack whose clientConfig output configures this client (read when the backend starts). */
  stack?: string;
  autoDeploy: boolean;
  /** Default of the call option `speculative`: back up straggling calls (client/speculation.ts). */
  speculative: boolean;
}

/** The Pulumi stack a client binds to when no `stack` option is given. */
export const STACK_ENV = "LITHOPS_STACK";

/** Where the local backend keeps its storage when local.data_dir does not say. */
export const LOCAL_DATA_DIR_ENV = "LITHOPS_LOCAL_DATA_DIR";

/** `~` and `~/...` as the home folder, as in the config file's paths. */
export function expandHome(path: string): string {
  return path === "~" || path.startsWith("~/") ? join(homedir(), path.slice(1)) : path;
}

/** What a new executor inside a worker inherits from it (nested jobs): backend, storage, runtime. */
interface WorkerSettings {
  backend: BackendName;
  runtime?: string;
  runtimeMemory?: number;
  signingKey?: string;
  storage: StorageSettings;
}

function inheritedFromWorker(env: NodeJS.ProcessEnv): WorkerSettings | undefined {
  const storage = storageSettingsFromEnv(env);
  if (!storage) return undefined;
  return {
    backend: env[ENV.backend] === "local" ? "local" : "azure_containers",
    runtime: env[ENV.runtimeName] || undefined,
    runtimeMemory: env[ENV.runtimeMemory] ? Number(env[ENV.runtimeMemory]) : undefined,
    signingKey: env[ENV.signingKey] || undefined,
    storage,
  };
}

/** Everything a setting may come from. */
export interface SettingSources {
  options: CheckedExecutorOptions;
  file: LithopsConfigFile;
  /** Set inside a worker (a nested job). */
  worker?: WorkerSettings;
  env: NodeJS.ProcessEnv;
}

/** One source of a setting: `from` names it for the docs; `on` limits it to one backend. */
export interface SettingSource<T> {
  from: string;
  on?: BackendName;
  read(sources: SettingSources): T | undefined;
}

const sources = <T>(...list: SettingSource<T>[]): readonly SettingSource<T>[] => list;

/**
 * Where each setting with several sources comes from, in order: the first source that gives
 * a value wins, skipping sources for another backend. docs/configuration.md shows this table
 * (a unit test compares the two).
 */
export const PRECEDENCE = {
  backend: sources<BackendName>(
    { from: "option `backend`", read: (s) => s.options.backend },
    { from: "`lithops.backend`, else `lithops.mode`", read: (s) => s.file.lithops?.backend },
    { from: "the worker's backend (inside a worker)", read: (s) => s.worker?.backend },
    { from: "`azure_containers` when option `stack` is given", read: (s) => (s.options.stack ? "azure_containers" : undefined) },
    { from: "default `local`", read: () => "local" },
  ),
  runtime: sources<string>(
    { from: "option `runtime`", read: (s) => s.options.runtime },
    { from: "`azure_containers.runtime`", read: (s) => s.file.azure_containers?.runtime },
    { from: "the worker's runtime (inside a worker)", read: (s) => s.worker?.runtime },
    { from: "default `default`", read: () => DEFAULT_RUNTIME },
  ),
  runtimeMemory: sources<number>(
    { from: "option `runtimeMemory`", read: (s) => s.options.runtimeMemory },
    { from: "`azure_containers.runtime_memory`", read: (s) => s.file.azure_containers?.runtime_memory },
    { from: "the worker's memory (inside a worker)", read: (s) => s.worker?.runtimeMemory },
    { from: `default ${DEFAULT_MEMORY_MB}`, read: () => DEFAULT_MEMORY_MB },
  ),
  runtimeTimeout: sources<number>(
    { from: "option `runtimeTimeout`", read: (s) => s.options.runtimeTimeout },
    { from: "`local.runtime_timeout`", on: "local", read: (s) => s.file.local?.runtime_timeout },
    { from: "`azure_containers.runtime_timeout`", on: "azure_containers", read: (s) => s.file.azure_containers?.runtime_timeout },
    { from: `default ${DEFAULT_RUNTIME_TIMEOUT_S}`, read: () => DEFAULT_RUNTIME_TIMEOUT_S },
  ),
  maxWorkers: sources<number>(
    { from: "option `maxWorkers`", read: (s) => s.options.maxWorkers },
    { from: "`local.max_workers`", on: "local", read: (s) => s.file.local?.max_workers },
    { from: "`azure_containers.max_workers`", on: "azure_containers", read: (s) => s.file.azure_containers?.max_workers },
    { from: "`localhost.worker_processes`", on: "local", read: (s) => s.file.localhost?.worker_processes },
    { from: "`lithops.workers` (Lithops's older name)", read: (s) => s.file.lithops?.workers },
    { from: "default: the number of CPUs", on: "local", read: () => availableParallelism() },
    { from: `default ${DEFAULT_MAX_WORKERS}`, on: "azure_containers", read: () => DEFAULT_MAX_WORKERS },
  ),
  workerProcesses: sources<number>(
    { from: "option `workerProcesses`", read: (s) => s.options.workerProcesses },
    { from: "`local.worker_processes`", on: "local", read: (s) => s.file.local?.worker_processes },
    { from: "`azure_containers.worker_processes`", on: "azure_containers", read: (s) => s.file.azure_containers?.worker_processes },
    { from: "default 1", read: () => 1 },
  ),
  logLevel: sources<LogLevel>(
    { from: "option `logLevel`", read: (s) => s.options.logLevel },
    { from: "`lithops.log_level` (`null`: CRITICAL)", read: (s) => s.file.lithops?.log_level },
    { from: "default `INFO`", read: () => "INFO" },
  ),
  signingKey: sources<string>(
    { from: "`lithops.signing_key`", read: (s) => s.file.lithops?.signing_key },
    { from: "the worker's key (inside a worker)", read: (s) => s.worker?.signingKey },
  ),
  stack: sources<string>(
    { from: "option `stack` (not inside a worker)", on: "azure_containers", read: (s) => (s.worker ? undefined : s.options.stack) },
    { from: "$LITHOPS_STACK (not inside a worker)", on: "azure_containers", read: (s) => (s.worker ? undefined : s.env[STACK_ENV] || undefined) },
  ),
  storage: sources<StorageSettings>(
    { from: "the worker's storage (inside a worker)", read: (s) => s.worker?.storage },
    { from: "`azure_storage`", read: (s) => storageFromFile(s.file) },
  ),
  localConnectionString: sources<string>(
    { from: "`local.connection_string`", read: (s) => s.file.local?.connection_string },
    { from: "the worker's emulator (inside a local worker)", read: (s) => (s.worker?.backend === "local" ? s.worker.storage.connectionString : undefined) },
  ),
  localDataDir: sources<string>(
    { from: "`local.data_dir`", read: (s) => s.file.local?.data_dir || undefined },
    { from: "$LITHOPS_LOCAL_DATA_DIR", read: (s) => s.env[LOCAL_DATA_DIR_ENV] || undefined },
    { from: "default `~/.lithops-aca/local`", read: () => join(homedir(), ".lithops-aca", "local") },
  ),
} as const;

type SettingValue<K extends keyof typeof PRECEDENCE> = (typeof PRECEDENCE)[K] extends readonly SettingSource<infer T>[] ? T : never;

/** The value of `setting` from the first of its sources that has one (on `backend`, when given). */
function pick<K extends keyof typeof PRECEDENCE>(setting: K, from: SettingSources, backend?: BackendName): SettingValue<K> | undefined {
  for (const source of PRECEDENCE[setting] as readonly SettingSource<SettingValue<K>>[]) {
    if (source.on !== undefined && source.on !== backend) continue;
    const value = source.read(from);
    if (value !== undefined) return value;
  }
  return undefined;
}

function storageFromFile(file: LithopsConfigFile): StorageSettings {
  const section = file.azure_storage ?? {};
  return {
    connectionString: section.connection_string,
    accountName: section.storage_account_name,
    accountKey: section.storage_account_key,
    blobEndpoint: section.blob_endpoint,
    queueEndpoint: section.queue_endpoint,
    container: section.storage_bucket ?? DEFAULT_JOB_CONTAINER,
  };
}

/** The local backend's data folder: local.data_dir, else $LITHOPS_LOCAL_DATA_DIR, else ~/.lithops-aca/local. */
export function resolveLocalDataDir(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return expandHome(pick("localDataDir", { options: {}, file: { local: { data_dir: setting } }, env }) ?? "");
}

function loadConfigFile(option: CheckedExecutorOptions["config"], env: NodeJS.ProcessEnv): LithopsConfigFile {
  if (option !== undefined && typeof option !== "string") return validateConfigFile(option, "config option");
  const path = option ?? configFileCandidates(env).find((candidate) => existsSync(candidate));
  return path ? readConfigFile(path) : {};
}

/** What the file says that a local backend does not use, so that nobody believes their data went to Azure. */
function localBackendNotes(file: LithopsConfigFile, dataDir: string): string[] {
  const account = file.azure_storage?.storage_account_name ?? (file.azure_storage?.connection_string ? "the connection string's account" : undefined);
  if (account === undefined) return [];
  return [
    `backend local keeps jobs and Storage objects in the local emulator (data folder ${dataDir}), not in storage account ${account}: azure_storage is used by backend azure_containers only`,
  ];
}

const REDACTED = "[redacted]";

/** A copy of `value` with every secret-named key's value replaced, for printing. */
function redactedCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactedCopy);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, isSecretKey(key) && inner ? REDACTED : redactedCopy(inner)]));
}

/**
 * Makes every printout of `value` (console.log, util.inspect, JSON.stringify) show its secrets
 * as [redacted]; code still reads the values. Non-enumerable, so copies and clones skip them.
 */
function hideSecrets<T extends object>(value: T): T {
  Object.defineProperties(value, {
    toJSON: { value: () => redactedCopy(value), configurable: true },
    [inspect.custom]: { value: (_depth: number, options: object) => inspect(redactedCopy(value), options), configurable: true },
  });
  return value;
}

/** Options > config file > (inside a worker) the worker's settings > defaults, setting by setting as PRECEDENCE says. */
export function resolveConfig(options: ExecutorOptions = {}, env: NodeJS.ProcessEnv = process.env): ExecutorConfig {
  const checkedOptions = checkExecutorOptions(options);
  const file = loadConfigFile(checkedOptions.config, env);
  const from: SettingSources = { options: checkedOptions, file, worker: inheritedFromWorker(env), env };
  const backend = pick("backend", from) ?? "local";
  const at = <K extends keyof typeof PRECEDENCE>(setting: K) => pick(setting, from, backend);
  const logLevel = at("logLevel") ?? "INFO";
  const dataDir = expandHome(at("localDataDir") ?? "");
  logOnce(unusedKeyNotes(file), logLevel, "info");
  if (backend === "local" && !from.worker) logOnce(localBackendNotes(file, dataDir), logLevel, "warn");
  if (backend === "azure_containers" && file.lithops?.storage === LOCALHOST) {
    throw new ConfigError(`lithops.storage: "${LOCALHOST}" is storage on this machine, which azure_containers workers cannot reach; use azure_storage`);
  }
  const runtime = assertRuntimeName(at("runtime") ?? DEFAULT_RUNTIME, "runtime");
  const storage = at("storage") ?? storageFromFile(file);
  const stack = at("stack");
  if (backend === "azure_containers" && !stack && !storage.connectionString && !storage.accountName) {
    throw new ConfigError(
      "backend azure_containers needs azure_storage.storage_account_name (or connection_string) in the config; `umask 077; pulumi stack output clientConfig --show-secrets > .lithops_config` writes one",
    );
  }
  const runtimeTimeout = at("runtimeTimeout") ?? DEFAULT_RUNTIME_TIMEOUT_S;
  const local = file.local ?? {};
  return hideSecrets({
    backend,
    runtime,
    runtimeMemory: at("runtimeMemory") ?? DEFAULT_MEMORY_MB,
    runtimeTimeout,
    maxWorkers: at("maxWorkers") ?? DEFAULT_MAX_WORKERS,
    workerProcesses: at("workerProcesses") ?? 1,
    logLevel,
    progress: checkedOptions.progress ?? true,
    executionTimeout: Math.min(file.lithops?.execution_timeout ?? runtimeTimeout, runtimeTimeout),
    dataCleaner: file.lithops?.data_cleaner ?? false,
    retries: file.lithops?.retries ?? 0,
    chunksize: file.lithops?.chunksize,
    signingKey: at("signingKey"),
    storageRetryTimeout: file.lithops?.storage_retry_timeout ?? 120,
    storage: hideSecrets({ ...storage }),
    local: hideSecrets({
      cooldown: local.cooldown ?? 3,
      visibilityTimeout: local.visibility_timeout ?? 10,
      maxDeliveries: local.max_deliveries ?? 3,
      connectionString: at("localConnectionString"),
      startWorkers: from.worker === undefined,
      dataDir,
    }),
    deployedRuntimes: file.azure_containers?.runtimes ?? [],
    cost: file.cost ?? {},
    stack,
    autoDeploy: checkedOptions.autoDeploy ?? false,
    speculative: checkedOptions.speculative ?? false,
  });
}
