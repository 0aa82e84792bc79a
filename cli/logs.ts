import { LogsError } from "./errors.ts";
import type { ContainerClient } from "@azure/storage-blob";
import { connectStorage, downloadBytes, isNotFound, type StorageClients } from "../azure/storage-connection.ts";
import { type ExecutorConfig, resolveConfig } from "../client/config.ts";
import { openLocalStorage } from "../local/data-dir.ts";
import { assertId, batchOfOutputKey, executorPrefix, JOBS_PREFIX, jobPrefix } from "../protocol/keys.ts";
import { decodeBatchOutput, type BatchOutput, type CallOutcome } from "../protocol/output.ts";
import { pulumiProject } from "../deploy/pulumi-project.ts";
import type { CliIO } from "../deploy/run-plan.ts";
import { givenStack, type CliContext } from "./commands.ts";
import type { CliRequest } from "./main.ts";

/**
 * `lithops-aca logs get <job>` and `lithops-aca logs poll [job]`, as Lithops's `logs`
 * commands: the console output the workers captured for each call (protocol/output.ts's
 * CallOutcome.logs, at most 64 KiB per call), read from the jobs' status documents, so the
 * same reads work on Azure Storage and on the local backend's storage.
 */

/** Which jobs: `<executorId>/<jobId>` (what futures and errors name, e.g. `3fa2c1-1/M000`), or `<executorId>` for all of its jobs. */
interface JobSelector {
  executorId: string;
  jobId?: string;
}

export function parseJobSelector(text: string): JobSelector {
  const [executorId, jobId, ...rest] = text.split("/");
  try {
    if (rest.length > 0 || executorId === undefined) throw new LogsError("too many parts");
    assertId("executor id", executorId);
    if (jobId !== undefined) assertId("job id", jobId);
  } catch (error) {
    throw new LogsError(
      `job ${JSON.stringify(text)} is not valid (${(error as Error).message}): give <executorId>/<jobId>, e.g. 3fa2c1-1/M000, or an executor id for all of its jobs`,
    );
  }
  return { executorId, jobId };
}

function prefixOf(selector: JobSelector | undefined): string {
  if (!selector) return `${JOBS_PREFIX}/`;
  return selector.jobId === undefined ? executorPrefix(selector.executorId) : jobPrefix(selector.executorId, selector.jobId);
}

/** The status documents (one per finished batch) under the selected jobs, in key order: jobs, then batches. */
async function outputKeys(container: ContainerClient, selector: JobSelector | undefined): Promise<string[]> {
  const keys: string[] = [];
  try {
    for await (const blob of container.listBlobsFlat({ prefix: prefixOf(selector) })) {
      if (batchOfOutputKey(blob.name) !== undefined) keys.push(blob.name);
    }
  } catch (error) {
    if (!isNotFound(error)) throw error; // no job ran on this storage yet: its container does not exist
  }
  return keys;
}

/** A call's header line and its output, as printed. */
function callLines(output: BatchOutput, outcome: CallOutcome): string[] {
  const status = outcome.ok ? "success" : `error: ${outcome.error.name}: ${outcome.error.message}`;
  const header = `--- ${output.executorId}/${output.jobId}/${outcome.callId} on ${outcome.stats.workerId} (${status}) ---`;
  const text = outcome.logs ?? "";
  return [header, ...(text === "" ? [] : text.replace(/\n$/, "").split("\n"))];
}

/**
 * Prints the output of every call in one status document, in call order; returns how many
 * calls it held. With the signing key, an output without a valid MAC is refused
 * (OutputIntegrityError), as the client refuses it: logs are what a user trusts to debug.
 */
async function printOutput(container: ContainerClient, key: string, signingKey: string | undefined, io: CliIO): Promise<number> {
  const output = decodeBatchOutput(await downloadBytes(container, key), signingKey, key);
  for (const outcome of output.calls) for (const line of callLines(output, outcome)) io.out(line);
  return output.calls.length;
}

async function getLogs(container: ContainerClient, signingKey: string | undefined, selector: JobSelector, io: CliIO): Promise<void> {
  const keys = await outputKeys(container, selector);
  if (keys.length === 0) {
    const job = selector.jobId === undefined ? `executor ${selector.executorId}` : `job ${selector.executorId}/${selector.jobId}`;
    throw new LogsError(
      `no finished calls of ${job} in storage: check the id (errors and futures name jobs as <executorId>/<jobId>), or wait for its calls to finish (\`logs poll\` follows them)`,
    );
  }
  let calls = 0;
  for (const key of keys) calls += await printOutput(container, key, signingKey, io);
  io.err(`${calls} calls`);
}

/**
 * Prints the output of calls that finish from now on (in the selected jobs, or in any job),
 * checking every `intervalMs`, until `signal` aborts. Each check is one listing of the jobs'
 * keys plus a download per newly finished batch.
 */
async function pollLogs(
  container: ContainerClient,
  signingKey: string | undefined,
  selector: JobSelector | undefined,
  io: CliIO,
  signal: AbortSignal,
  intervalMs = 1000,
): Promise<void> {
  const seen = new Set(await outputKeys(container, selector));
  io.err(
    `Following the logs of ${selector ? `${selector.executorId}${selector.jobId ? `/${selector.jobId}` : ""}` : "every job"}: new output appears as batches of calls finish (Ctrl-C to stop)`,
  );
  while (!signal.aborted) {
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      signal.addEventListener(
        "abort",
        () => {
          clearTimeout(timer);
          resolve();
        },
        { once: true },
      );
    });
    if (signal.aborted) break;
    for (const key of await outputKeys(container, selector)) {
      if (seen.has(key)) continue;
      seen.add(key);
      await printOutput(container, key, signingKey, io);
    }
  }
}

/**
 * Runs `use` on the job container of the backend the command acts on: the local data
 * folder's storage (or local.connection_string), or Azure Storage from the config file or
 * the stack's clientConfig output. `signingKey` is the one the rest of the client uses:
 * the config's, else (local backend) the data folder's.
 */
export async function withJobContainer(
  request: CliRequest,
  context: CliContext,
  use: (container: ContainerClient, clients: StorageClients, config: ExecutorConfig, signingKey: string | undefined) => Promise<void>,
): Promise<void> {
  if (context.backend === "local") {
    const config = resolveConfig({ backend: "local", config: context.file }, context.env);
    const local = config.local.connectionString ? undefined : await openLocalStorage(config.local.dataDir);
    try {
      const clients = connectStorage({ connectionString: config.local.connectionString ?? local?.connectionString, container: config.storage.container });
      await use(clients.container, clients, config, config.signingKey ?? local?.signingKey);
    } finally {
      await local?.close();
    }
    return;
  }
  const stack = givenStack(request, context);
  const file = stack ? await (await import("../deploy/stack-session.ts")).readStackClientConfig(stack, pulumiProject(context.env, context.cwd)) : context.file;
  const config = resolveConfig({ backend: "azure_containers", config: file }, context.env);
  const clients = connectStorage(config.storage);
  await use(clients.container, clients, config, config.signingKey);
}

/** Runs `logs get` or `logs poll` (poll stops on SIGINT or SIGTERM). */
export async function runLogs(request: Extract<CliRequest, { command: "logs get" | "logs poll" }>, context: CliContext, io: CliIO): Promise<void> {
  if (request.command === "logs get") {
    const selector = parseJobSelector(request.job);
    await withJobContainer(request, context, (container, _clients, _config, signingKey) => getLogs(container, signingKey, selector, io));
    return;
  }
  const selector = request.job === undefined ? undefined : parseJobSelector(request.job);
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.on("SIGINT", onSignal).on("SIGTERM", onSignal);
  try {
    await withJobContainer(request, context, (container, _clients, _config, signingKey) => pollLogs(container, signingKey, selector, io, stop.signal));
  } finally {
    process.off("SIGINT", onSignal).off("SIGTERM", onSignal);
  }
}
