import { readFileSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { parse as parseYaml } from "yaml";
import { z } from "zod";
import { CONTAINER_NAME } from "../azure/storage-names.ts";
import { BACKENDS, type BackendName } from "../protocol/env.ts";
import { MAX_CALLS_PER_MESSAGE } from "../protocol/message.ts";
import { checkSchema, isSecretKey } from "../runtime-model/config-issues.ts";
import { memorySchema } from "../runtime-model/memory.ts";
import { costSection } from "./cost.ts";
import { ConfigError } from "./errors.ts";
import { LOG_LEVELS, logOnce } from "./logger.ts";

/**
 * The Lithops-style config file (YAML, or the same object as the `config` option): its
 * schema with Lithops's section and key names, where it is looked for, and the notes on
 * Lithops keys that are deployment settings here or change nothing.
 */

/** Lithops's level names in any case: `log_level: info` as its docs write it. */
export const logLevelSchema = z.string().toUpperCase().pipe(z.enum(LOG_LEVELS));

/** Lithops's name for the local backend. */
export const LOCALHOST = "localhost";
export const backendSchema = z.enum([...BACKENDS, LOCALHOST]).transform((name): BackendName => (name === LOCALHOST ? "local" : name));

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

/**
 * Hosts a storage endpoint may name: Azure Storage's own domains (public and sovereign
 * clouds, https only), or loopback for the emulator. Anything else would receive function
 * code, arguments, results and tokens, so it needs `allow_any_endpoint: true`.
 */
const AZURE_STORAGE_HOST = /\.(blob|queue)\.(core\.windows\.net|core\.chinacloudapi\.cn|core\.usgovcloudapi\.net|storage\.azure\.net)$/;
const LOOPBACK_HOSTS = new Set(["127.0.0.1", "localhost", "[::1]"]);
export const ANY_ENDPOINT_KEY = "azure_storage.allow_any_endpoint";

/** Why an endpoint is refused, or undefined when it is an Azure Storage or loopback endpoint. */
export function endpointProblem(endpoint: string): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "is not a URL";
  }
  // Only the origin is named: a query string may hold a SAS token.
  const origin = `${url.protocol}//${url.host}`;
  if (LOOPBACK_HOSTS.has(url.hostname) && (url.protocol === "http:" || url.protocol === "https:")) return undefined;
  if (url.protocol === "https:" && AZURE_STORAGE_HOST.test(url.hostname)) return undefined;
  return `${origin} is neither an https Azure Storage endpoint (https://<account>.blob.core.windows.net, .queue. for queues) nor loopback (the emulator); to send jobs there anyway, set ${ANY_ENDPOINT_KEY}: true`;
}

/** The BlobEndpoint and QueueEndpoint a connection string names, if any. */
function connectionStringEndpoints(connectionString: string): string[] {
  return connectionString
    .split(";")
    .map((part) => part.split(/=(.*)/s))
    .filter(([name]) => /^(Blob|Queue)Endpoint$/i.test(name.trim()))
    .map(([, value]) => value.trim());
}

/** The endpoints of a section (and of its connection string), each checked. */
function checkEndpoints(section: { connection_string?: string; blob_endpoint?: string; queue_endpoint?: string }, at: string, ctx: z.RefinementCtx): void {
  for (const key of ["blob_endpoint", "queue_endpoint"] as const) {
    const endpoint = section[key];
    const problem = endpoint && endpointProblem(endpoint);
    if (problem) ctx.addIssue({ code: "custom", path: [at, key], message: `endpoint ${problem}` });
  }
  for (const endpoint of connectionStringEndpoints(section.connection_string ?? "")) {
    const problem = endpointProblem(endpoint);
    if (problem) ctx.addIssue({ code: "custom", path: [at, "connection_string"], message: `its endpoint ${problem}` });
  }
}

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
  /** Endpoints outside Azure Storage's domains and loopback are refused unless this is true (a proxy, a private DNS name). */
  allow_any_endpoint: z.boolean().optional(),
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
  runtime_memory: memorySchema.optional(),
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
export const lithopsConfigSchema = z
  .strictObject({
    lithops: lithopsSection.optional(),
    azure: azureSection.optional(),
    azure_storage: azureStorageSection.optional(),
    azure_containers: azureContainersSection.optional(),
    localhost: localhostSection.optional(),
    local: localSection.optional(),
    /** Prices for fexec.cost() (client/cost.ts), overriding the documented defaults. */
    cost: costSection.optional(),
  })
  .superRefine((file, ctx) => {
    if (file.azure_storage?.allow_any_endpoint === true) return;
    if (file.azure_storage) checkEndpoints(file.azure_storage, "azure_storage", ctx);
    if (file.local) checkEndpoints(file.local, "local", ctx);
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

/** Where Lithops looks for its config file, in order. */
export function configFileCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  return [env.LITHOPS_CONFIG_FILE, join(process.cwd(), ".lithops_config"), join(homedir(), ".lithops", "config"), "/etc/lithops/config"].filter(
    (path): path is string => Boolean(path),
  );
}

/** The modes a config file may have: readable by its owner alone, since it may hold keys. */
const SHARED_READ_BITS = 0o044;

/**
 * A warning when the file at `path` is readable by the group or by everyone (it may hold a
 * signing key or a storage key), or undefined. Windows has no such mode bits.
 */
function readableByOthers(path: string): string | undefined {
  if (process.platform === "win32") return undefined;
  const mode = statSync(path).mode & 0o777;
  if ((mode & SHARED_READ_BITS) === 0) return undefined;
  return `config file ${path} is readable by other users (mode ${mode.toString(8).padStart(3, "0")}) and may hold keys: chmod 600 ${path}`;
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
  const file = validateConfigFile(raw, `config file ${path}`);
  const readable = readableByOthers(path);
  // Every reader warns (the client, the CLI's -c), at the file's own level.
  if (readable) logOnce([readable], file.lithops?.log_level ?? "INFO", "warn");
  return file;
}

export function validateConfigFile(raw: unknown, source = "config"): LithopsConfigFile {
  const checked = checkSchema(lithopsConfigSchema, raw, { keyName: (path) => path.map(String).join("."), noun: "key" });
  if (!checked.success) throw new ConfigError(`${source} is invalid:\n  ${checked.problems.join("\n  ")}`);
  return checked.data;
}

/** Whether a config key holds a secret, so that no printout or message shows its value. */
export { isSecretKey };
