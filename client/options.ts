import { z } from "zod";
import { callBatchMessageSchema, callEnvSchema, MAX_CALLS_PER_MESSAGE } from "../protocol/message.ts";
import { checkSchema } from "../runtime-model/config-issues.ts";
import { DEFAULT_MAX_WORKERS, DEFAULT_RUNTIME_TIMEOUT_S } from "../runtime-model/defaults.ts";
import { ALLOWED_MEMORY_MB, DEFAULT_MEMORY_MB, memorySchema } from "../runtime-model/memory.ts";
import { backendSchema, type LithopsConfigInput, logLevelSchema } from "./config-file.ts";
import { ConfigError } from "./errors.ts";
import type { LogLevel } from "./logger.ts";

/**
 * The options of `new FunctionExecutor(...)` and of every executor method, checked when
 * the method is called: a bad value or a misspelt name fails there, naming it, instead of
 * reaching a worker that refuses the message. Values that travel in the message are checked
 * with the message's own schema. Problems are worded by runtime-model/config-issues.ts.
 */

/** What an executor option does and its default, kept with its schema (docs/configuration.md lists them). */
export interface OptionDoc {
  doc: string;
  default: string;
}

const documented = <T extends z.ZodType>(schema: T, about: OptionDoc) => schema.optional().meta(about as unknown as Record<string, unknown>);
const positiveInt = z.number().int().positive();

/** The options of `new FunctionExecutor(options)`: each wins over the config file (see PRECEDENCE in client/config.ts). */
export const executorOptionsSchema = z.strictObject({
  backend: documented(backendSchema, {
    doc: "Where calls run: 'local' (Azurite and worker processes on this machine; Lithops's 'localhost' too) or 'azure_containers'.",
    default: "'local'; 'azure_containers' when `stack` is given",
  }),
  runtime: documented(z.string(), { doc: "Runtime name: 'default' or an image reference such as 'myaccount/img:tag'.", default: "'default'" }),
  runtimeMemory: documented(memorySchema, {
    doc: `MB per worker, one of Azure Container Apps' sizes: ${ALLOWED_MEMORY_MB[0]} to ${ALLOWED_MEMORY_MB.at(-1)} in steps of ${ALLOWED_MEMORY_MB[0]}.`,
    default: String(DEFAULT_MEMORY_MB),
  }),
  runtimeTimeout: documented(positiveInt, { doc: "Seconds a call may run.", default: String(DEFAULT_RUNTIME_TIMEOUT_S) }),
  maxWorkers: documented(positiveInt, {
    doc: "Workers (local processes, or Container Apps replicas) running calls at once, at most.",
    default: `the number of CPUs (local); ${DEFAULT_MAX_WORKERS} (azure_containers)`,
  }),
  workerProcesses: documented(positiveInt, { doc: "Calls each worker runs at once.", default: "1" }),
  config: documented(
    z.union([z.string().min(1), z.custom<LithopsConfigInput>((value) => typeof value === "object" && value !== null).meta({ valid: "a mapping" })]),
    {
      doc: "A Lithops-style config object, or the path of a YAML file holding one.",
      default: "the first file of $LITHOPS_CONFIG_FILE, ./.lithops_config, ~/.lithops/config, /etc/lithops/config that exists",
    },
  ),
  logLevel: documented(logLevelSchema as unknown as z.ZodType<LogLevel, LogLevel | Lowercase<LogLevel>>, {
    doc: "One of DEBUG, INFO, WARNING, ERROR, CRITICAL, in any case.",
    default: "'INFO'",
  }),
  progress: documented(z.boolean(), { doc: "A progress bar on getResult/wait when the output is a terminal.", default: "true" }),
  stack: documented(z.string().min(1), {
    doc: "A Pulumi stack of this project: the client reads the stack's `clientConfig` output when the backend starts, so no config file is needed.",
    default: "$LITHOPS_STACK",
  }),
  autoDeploy: documented(z.boolean(), {
    doc: "With `stack`: deploy a runtime that is not deployed yet (`runtime deploy`) instead of failing.",
    default: "false",
  }),
  speculative: documented(z.boolean(), {
    doc: "Queue one backup copy of a call running far longer than the job's finished calls (mean + 3 standard deviations); the first outcome wins. Functions must be safe to run twice.",
    default: "false",
  }),
});

/** Options of `new FunctionExecutor(options)`: they win over the config file. */
export type ExecutorOptions = z.input<typeof executorOptionsSchema>;

export const ALL_COMPLETED = "ALL_COMPLETED";
export const ANY_COMPLETED = "ANY_COMPLETED";
export const ALWAYS = "ALWAYS";
export type ReturnWhen = typeof ALL_COMPLETED | typeof ANY_COMPLETED | typeof ALWAYS;

/** Lithops's default for mapReduce's spawnReducer: the reducer starts once 20% of the maps are done. */
export const DEFAULT_SPAWN_REDUCER = 20;

const wholeNumber = (min: number) => z.number().int().min(min);

const callFields = {
  /** Appended to every call's arguments. */
  extraArgs: z.array(z.unknown()).optional(),
  /** Seconds; at most the runtime's timeout. */
  timeout: callBatchMessageSchema.shape.timeout.optional(),
  /** Run on the runtime of this memory size (MB) instead of the executor's. */
  runtimeMemory: memorySchema.optional(),
  /** Environment variables set while the calls run (Lithops's extra_env). */
  extraEnv: callEnvSchema.optional(),
  /** Queue one backup copy of a straggling call (client/speculation.ts's rule); default: the executor's `speculative`. */
  speculative: z.boolean().optional(),
};

const mapFields = {
  ...callFields,
  /** Calls per invocation message (Lithops's chunksize); default: spread over the workers. */
  chunksize: wholeNumber(1).max(MAX_CALLS_PER_MESSAGE).optional(),
  /** Object input: bytes per part (ceil(size / objChunkSize) parts per object), as in Lithops. */
  objChunkSize: wholeNumber(1).optional(),
  /** Object input: parts per object. */
  objChunkNumber: wholeNumber(1).optional(),
};

const resultFields = {
  /** Rethrow a failed call's error (default); with false it takes the call's place. */
  throwExcept: z.boolean().optional(),
  /** Seconds. */
  timeout: z.number().min(0).optional(),
};

export const callOptionsSchema = z.object(callFields).strict();
export const mapOptionsSchema = z.object(mapFields).strict();
export const mapReduceOptionsSchema = z
  .object({
    ...mapFields,
    /** One reducer per object (object input only) instead of one for all map calls. */
    objReduceByKey: z.boolean().optional(),
    /** Run the reducers on the runtime of this memory size (default: the maps'). */
    reduceRuntimeMemory: memorySchema.optional(),
    /** Percent of the maps that must be done before the reducer is queued (0: at once); default 20, as in Lithops. */
    spawnReducer: z.number().min(0).max(100).optional(),
  })
  .strict();
export const retryingMapOptionsSchema = z
  .object({
    ...mapFields,
    /** Times a failed call is run again; default the config's `retries`, else 0, as in Lithops. */
    retries: wholeNumber(0).optional(),
  })
  .strict();
export const waitOptionsSchema = z.object({ ...resultFields, returnWhen: z.enum([ALL_COMPLETED, ANY_COMPLETED, ALWAYS]).optional() }).strict();
export const getResultOptionsSchema = z.object(resultFields).strict();

export type CallOptions = z.input<typeof callOptionsSchema>;
export type MapOptions = z.input<typeof mapOptionsSchema>;
export type MapReduceOptions = z.input<typeof mapReduceOptionsSchema>;
export type RetryingMapOptions = z.input<typeof retryingMapOptionsSchema>;
export type WaitOptions = z.input<typeof waitOptionsSchema>;
export type GetResultOptions = z.input<typeof getResultOptionsSchema>;

/** Option paths as a caller writes them: `timeout`, `extraEnv.NAME`. */
const OPTION_STYLE = { keyName: (path: readonly PropertyKey[]) => path.map(String).join("."), noun: "option" } as const;

/** The options of `method`, checked against its schema; the error names each bad option, its value and what is valid. */
export function checkOptions<T>(method: string, schema: z.ZodType<T>, options: unknown): T {
  if (options === undefined) return {} as T;
  const checked = checkSchema(schema, options, OPTION_STYLE);
  if (checked.success) return options as T;
  throw new ConfigError(`${method}: ${checked.problems.join("; ")}`);
}

/** The options of `new FunctionExecutor(...)` as checked: `backend: "localhost"` as "local", log levels upper case. */
export type CheckedExecutorOptions = z.output<typeof executorOptionsSchema>;

/** Refuses options of `new FunctionExecutor(...)` with an unknown name or a bad value. */
export function checkExecutorOptions(options: unknown): CheckedExecutorOptions {
  const checked = checkSchema(executorOptionsSchema, options ?? {}, OPTION_STYLE);
  if (!checked.success) throw new ConfigError(`new FunctionExecutor: ${checked.problems.join("; ")}`);
  return checked.data;
}
