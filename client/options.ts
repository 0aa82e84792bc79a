import { z } from "zod";
import { memorySchema } from "../runtime-model/memory.ts";
import { callBatchMessageSchema, callEnvSchema, MAX_CALLS_PER_MESSAGE } from "../protocol/message.ts";
import type { ExecutorOptions } from "./config.ts";
import { ConfigError } from "./errors.ts";
import { didYouMean } from "./suggest.ts";

/**
 * The options of every executor method, checked when the method is called: a bad value or
 * a misspelt name fails there, naming it, instead of reaching a worker that refuses the
 * message. Values that travel in the message are checked with the message's own schema.
 */

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

function shown(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  return typeof value === "object" && value !== null ? (Array.isArray(value) ? "an array" : "an object") : String(value);
}

/** The options of `method`, checked against its schema; the error names each bad option, its value and what is valid. */
export function checkOptions<T>(method: string, schema: z.ZodType<T>, options: unknown): T {
  if (options === undefined) return {} as T;
  const parsed = schema.safeParse(options, { reportInput: true });
  if (parsed.success) return options as T;
  const valid = schema instanceof z.ZodObject ? Object.keys(schema.shape) : [];
  const problems = parsed.error.issues.flatMap((issue) => {
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => `unknown option ${JSON.stringify(key)}: ${didYouMean(key, valid)}`);
    if (issue.code === "invalid_key") {
      return [`${issue.path.slice(0, -1).join(".")}: name ${shown(issue.input)} ${issue.issues.map((inner) => inner.message).join("; ")}`];
    }
    const where = issue.path.length > 0 ? `${issue.path.join(".")}: ` : "";
    // Custom checks (memory sizes) name the value in their message already.
    const value = issue.code === "custom" ? "" : `${shown(issue.input)} is not valid: `;
    return [`${where}${value}${issue.message}`];
  });
  throw new ConfigError(`${method}: ${problems.join("; ")}`);
}

/** Every option of `new FunctionExecutor(...)`: a record, so the compiler checks it against ExecutorOptions both ways. */
const EXECUTOR_OPTIONS: Record<keyof ExecutorOptions, true> = {
  backend: true,
  runtime: true,
  runtimeMemory: true,
  runtimeTimeout: true,
  maxWorkers: true,
  workerProcesses: true,
  config: true,
  logLevel: true,
  progress: true,
  stack: true,
  autoDeploy: true,
};

/** Refuses option names `new FunctionExecutor(...)` does not know (their values are checked by resolveConfig). */
export function checkExecutorOptionNames(options: object): void {
  const valid = Object.keys(EXECUTOR_OPTIONS);
  const unknown = Object.keys(options).filter((key) => !Object.hasOwn(EXECUTOR_OPTIONS, key));
  if (unknown.length > 0) {
    throw new ConfigError(`new FunctionExecutor: ${unknown.map((key) => `unknown option ${JSON.stringify(key)}: ${didYouMean(key, valid)}`).join("; ")}`);
  }
}
