import { CliError } from "./errors.ts";
import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { createInterface } from "node:readline/promises";
import { configFileCandidates, readConfigFile, resolveLocalDataDir, STACK_ENV, type LithopsConfigFile } from "../client/config.ts";
import { loadPulumiPart } from "../client/optional-packages.ts";
import { CLEANED_PREFIXES, deleteJobData } from "../deploy/job-data.ts";
import type { CliIO } from "../deploy/run-plan.ts";
import { startAzurite } from "../local/azurite.ts";
import { folderAccountKey, lockDataDir } from "../local/data-dir.ts";
import { DELIVERIES_PREFIX } from "../protocol/keys.ts";
import type { BackendName } from "../protocol/env.ts";
import { LithopsError } from "../protocol/errors.ts";
import { readLocalState } from "./local-state.ts";
import type { CliRequest } from "./main.ts";
import { DEFAULT_JOB_CONTAINER } from "../azure/storage-names.ts";

/** Asks on the terminal; only when both ends are one (a script or CI gets no question, and no answer). */
async function askOnTerminal(question: string): Promise<string> {
  const terminal = createInterface({ input: process.stdin, output: process.stdout });
  try {
    return await terminal.question(question);
  } finally {
    terminal.close();
  }
}

export function consoleIO(debug: boolean): CliIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    debug,
    ...(process.stdin.isTTY && process.stdout.isTTY ? { ask: askOnTerminal } : {}),
  };
}

/** The commands that change a Pulumi stack: they always act on azure_containers. */
const STACK_COMMANDS: ReadonlySet<CliRequest["command"]> = new Set(["runtime build", "runtime deploy", "runtime update", "runtime delete", "stack destroy"]);

export interface CliContext {
  file: LithopsConfigFile;
  /** The config file read, if any. */
  configPath?: string;
  backend: BackendName;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

/** `-c path`, else the first of $LITHOPS_CONFIG_FILE, ./.lithops_config, ~/.lithops/config that exists (as the client reads it). */
export function loadCliConfig(path: string | undefined, env: NodeJS.ProcessEnv): { file: LithopsConfigFile; path?: string } {
  if (path) return { file: readConfigFile(path), path };
  const found = configFileCandidates(env).find((candidate) => existsSync(candidate));
  return found ? { file: readConfigFile(found), path: found } : { file: {} };
}

/** -b wins; runtime build/deploy/update/delete act on a stack; a stack given (--stack, LITHOPS_STACK) means azure_containers; then the config; then local. */
export function resolveBackend(request: CliRequest, file: LithopsConfigFile, env: NodeJS.ProcessEnv): BackendName {
  const backend = backendOf(request, file, env);
  // Only the local backend has a storage of its own; a runtime on Azure reads and writes Azure Storage.
  if (request.storage === "local" && backend !== "local") {
    throw new CliError(`-s local goes only with -b local; backend ${backend} uses -s azure_storage (or leave -s out)`);
  }
  return backend;
}

function backendOf(request: CliRequest, file: LithopsConfigFile, env: NodeJS.ProcessEnv): BackendName {
  if (request.backend) return request.backend;
  if (STACK_COMMANDS.has(request.command)) return "azure_containers";
  if (request.stack || env[STACK_ENV]) return "azure_containers";
  return file.lithops?.backend ?? "local";
}

/** The local backend's persistent data folder, by the client's rule (local.data_dir, $LITHOPS_LOCAL_DATA_DIR, ~/.lithops-aca/local). */
export function localDataDir(file: LithopsConfigFile): string {
  return resolveLocalDataDir(file.local?.data_dir);
}

/** The local backend's job container, as the client names it. */
function localContainer(file: LithopsConfigFile): string {
  return file.azure_storage?.storage_bucket ?? DEFAULT_JOB_CONTAINER;
}

/** The stack named on the command line or by LITHOPS_STACK, if any. */
export function givenStack(request: CliRequest, context: CliContext): string | undefined {
  return request.stack ?? (context.env[STACK_ENV] || undefined);
}

/**
 * The stack commands (cli/stack-commands.ts), loaded on first use: they drive Pulumi, whose
 * packages are optional peers, so the local commands work without them.
 */
function stackCommands(request: CliRequest): Promise<typeof import("./stack-commands.ts")> {
  return loadPulumiPart(`\`lithops-aca ${request.command}\` on a stack`, () => import("./stack-commands.ts"));
}

/** Left-aligned columns with a dashed rule under the headers, like Lithops's tables. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i]!))
      .join("   ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)];
}

async function hello(request: CliRequest, context: CliContext, io: CliIO): Promise<void> {
  let user = "World";
  try {
    user = userInfo().username || user;
  } catch {
    // No user entry (some containers): greet the world.
  }
  const { FunctionExecutor } = await import("../client/executor.ts");
  let options: ConstructorParameters<typeof FunctionExecutor>[0];
  if (context.backend === "local") {
    const dataDir = localDataDir(context.file);
    io.out(`Starting the local backend: Azurite with its data in ${dataDir}, and local workers`);
    options = { backend: "local", config: { ...context.file, local: { ...context.file.local, data_dir: dataDir } } };
  } else {
    // A stack (given or selected), unless the config file already holds a client config (`pulumi stack output clientConfig`).
    const hasFileConfig = Boolean(context.file.azure_storage?.storage_account_name || context.file.azure_storage?.connection_string);
    const stack = givenStack(request, context) ?? (hasFileConfig ? undefined : await (await stackCommands(request)).stackName(request, context));
    io.out(stack ? `Reading the client config of stack '${stack}' (its clientConfig output)` : `Using the azure_containers config of ${context.configPath}`);
    options = { backend: "azure_containers", stack, config: context.file };
  }
  const fexec = new FunctionExecutor({ ...options, progress: false, logLevel: request.debug ? "DEBUG" : "WARNING" });
  try {
    await fexec.callAsync((name: string) => `Hello ${name}!`, user);
    io.out(`Called hello('${user}') on runtime ${fexec.config.runtime} (${fexec.config.runtimeMemory} MB); waiting for the result`);
    const result = await fexec.getResult(undefined, { timeout: 600 });
    if (result !== `Hello ${user}!`) throw new CliError(`the function returned ${JSON.stringify(result)}: something went wrong :(`);
    io.out(`${result} lithops-aca is working as expected :)`);
  } finally {
    await fexec.close();
  }
}

async function listRuntimes(request: CliRequest, context: CliContext, io: CliIO): Promise<void> {
  if (context.backend === "local") {
    const dataDir = localDataDir(context.file);
    io.out(`Reading the local backend's data in ${dataDir}`);
    const { runtimes, executors } = await readLocalState(dataDir, localContainer(context.file));
    const rows = runtimes.map((r) => [r.name, `${r.memory} MB`, r.nodeVersion, r.workerVersion, r.startedAt]);
    for (const line of table(["Runtime Name", "Memory Size", "Node.js", "lithops-aca Version", "Last Worker Start"], rows)) io.out(line);
    io.out(
      runtimes.length > 0
        ? `Total runtimes: ${runtimes.length} (local backend, job data of ${executors} executor${executors === 1 ? "" : "s"} kept; \`clean -b local\` removes it)`
        : "No runtimes deployed on the local backend (`npx lithops-aca hello -b local` runs the default one)",
    );
    return;
  }
  await (await stackCommands(request)).listStackRuntimes(request, context, io);
}

/**
 * `clean -b local`: the job data and runtime metadata of the local backend's storage, and its
 * queues (its runtimes); the user's other objects stay. It takes the data folder to itself
 * (refused, naming them, while other processes use it: their jobs' data would vanish under
 * them) and runs a private Azurite on it for the time of the deletion.
 */
async function cleanLocal(context: CliContext, io: CliIO): Promise<void> {
  const dataDir = localDataDir(context.file);
  if (!existsSync(dataDir)) {
    io.out(`Nothing to clean: ${dataDir} does not exist; config kept`);
    return;
  }
  io.out(`Cleaning the local backend's job data and runtime metadata in ${dataDir}`);
  const lock = lockDataDir(dataDir);
  try {
    const azurite = await startAzurite({ location: dataDir, accountKey: folderAccountKey(dataDir) });
    try {
      const storage = { connectionString: azurite.connectionString, container: localContainer(context.file) };
      // With its queues gone, the delivery markers (replay protection) have nothing left to guard here: only this user reaches them.
      const prefixes = [...CLEANED_PREFIXES, `${DELIVERIES_PREFIX}/`];
      const deleted = await deleteJobData(storage, prefixes, { queues: true });
      io.out(
        deleted.blobs + deleted.queues === 0
          ? "Nothing to clean: no job data, runtime metadata or runtime queues; other objects and the config kept"
          : `Local backend cleaned: ${deleted.blobs} objects of job data and runtime metadata (${prefixes.join(", ")}) ` +
              `and ${deleted.queues} runtime queues deleted; other objects and the config kept`,
      );
    } finally {
      await azurite.stop();
    }
  } finally {
    lock.release();
  }
}

async function clean(request: CliRequest, context: CliContext, io: CliIO): Promise<void> {
  if (context.backend === "local") return cleanLocal(context, io);
  await (await stackCommands(request)).cleanStack(request, context, io);
}

/** The package's own errors tell the whole story (no stack trace without --debug). */
function explained(error: unknown): boolean {
  return error instanceof LithopsError;
}

/** Runs one parsed command; returns the exit code (0 done, 1 failed, with the reason and the next step on stderr). */
export async function execute(request: CliRequest, io: CliIO, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  try {
    const { file, path } = loadCliConfig(request.config, env);
    const context: CliContext = { file, configPath: path, backend: resolveBackend(request, file, env), env, cwd };
    if (context.backend === "local" && STACK_COMMANDS.has(request.command)) {
      throw new CliError(
        `\`${request.command}\` changes a Pulumi stack on Azure; the local backend has nothing to build or deploy: its runtime starts with the first job ` +
          "(`lithops-aca hello -b local` tries it). Leave out -b local to act on a stack",
      );
    }
    switch (request.command) {
      case "hello":
        await hello(request, context, io);
        break;
      case "runtime list":
        await listRuntimes(request, context, io);
        break;
      case "clean":
        await clean(request, context, io);
        break;
      case "stack destroy":
        await (await stackCommands(request)).destroyStack(request, context, io);
        break;
      case "logs get":
      case "logs poll":
        await (await import("./logs.ts")).runLogs(request, context, io);
        break;
      case "job cancel":
        await (await import("./job-cancel.ts")).runJobCancel(request, context, io);
        break;
      case "dashboard":
        await (await import("./dashboard.ts")).runDashboard(request, context, io);
        break;
      default:
        await (await stackCommands(request)).changeStack(request, context, io);
    }
    return 0;
  } catch (error) {
    const err = error as Error;
    io.err(`Error: ${err.message}`);
    if (request.debug || !explained(error)) io.err(err.stack ?? String(error));
    return 1;
  }
}
