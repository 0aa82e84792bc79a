import { existsSync } from "node:fs";
import { userInfo } from "node:os";
import { configFileCandidates, ConfigError, DEFAULT_CONTAINER, expandHome, readConfigFile, STACK_ENV, type LithopsConfigFile } from "../client/config.ts";
import { pulumiProjectDir, selectedStack, StackError, StackSession } from "../deploy/stack-session.ts";
import { cleanLocalDataDir, DEFAULT_LOCAL_DATA_DIR, LocalDataDirBusyError } from "../local/data-dir.ts";
import type { BackendName } from "../protocol/env.ts";
import { readLocalState } from "./local-state.ts";
import type { CliRequest } from "./main.ts";
import {
  checkArguments,
  PlanError,
  planBuild,
  planClean,
  planDelete,
  planDeploy,
  planUpdate,
  projectDockerfile,
  RUNTIMES_KEY,
  runtimeRows,
  type RuntimeEntry,
  type StackPlan,
  type StackRef,
} from "../deploy/plans.ts";
import { runPlan, type CliIO } from "../deploy/run-plan.ts";
import { LithopsError } from "../protocol/errors.ts";

/** A command that cannot go on; the message says what to do instead. */
export class CliError extends LithopsError {
  override name = "CliError";
}

export function consoleIO(debug: boolean): CliIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    debug,
  };
}

/** The commands that change a Pulumi stack: they always act on azure_containers. */
const STACK_COMMANDS: ReadonlySet<CliRequest["command"]> = new Set(["runtime build", "runtime deploy", "runtime update", "runtime delete"]);

export interface CliContext {
  file: LithopsConfigFile;
  /** The config file read, if any. */
  configPath?: string;
  backend: BackendName;
  env: NodeJS.ProcessEnv;
  /** The Pulumi project folder. */
  workDir: string;
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

/** The local backend's persistent data folder: `local.data_dir` of the config, else ~/.lithops-aca/local. */
export function localDataDir(file: LithopsConfigFile): string {
  const dir = file.local?.data_dir;
  return dir ? expandHome(dir) : DEFAULT_LOCAL_DATA_DIR;
}

/** The stack named on the command line or by LITHOPS_STACK, if any. */
function givenStack(request: CliRequest, context: CliContext): string | undefined {
  return request.stack ?? (context.env[STACK_ENV] || undefined);
}

async function stackName(request: CliRequest, context: CliContext): Promise<string> {
  const name = givenStack(request, context) ?? (await selectedStack(context.workDir));
  if (!name) {
    throw new CliError(
      "no Pulumi stack given: pass --stack <name> (for example --stack dev), set LITHOPS_STACK, or select one with `pulumi stack select <name>` (`pulumi stack ls` lists them)",
    );
  }
  return name;
}

async function openStack(request: CliRequest, context: CliContext, io: CliIO): Promise<StackSession> {
  const name = await stackName(request, context);
  io.out(`Selecting stack '${name}' of the Pulumi project in ${context.workDir}`);
  return StackSession.open(name, context.workDir);
}

async function currentRuntimes(session: StackSession): Promise<RuntimeEntry[] | undefined> {
  const value = await session.getJson(RUNTIMES_KEY);
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== "object" || entry === null || typeof (entry as RuntimeEntry).name !== "string")) {
    throw new CliError(
      `${session.project}:${RUNTIMES_KEY} of stack '${session.name}' is not a list of runtimes with a name each: fix it in Pulumi.${session.shortName}.yaml (see Pulumi.dev.yaml)`,
    );
  }
  return value as RuntimeEntry[];
}

function sizeText(bytes: number): string {
  if (bytes < 1e3) return `${bytes} B`;
  if (bytes < 1e6) return `${(bytes / 1e3).toFixed(1)} kB`;
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Left-aligned columns with a dashed rule under the headers, like Lithops's tables. */
export function table(headers: string[], rows: string[][]): string[] {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((cell, i) => cell.padEnd(widths[i]!)).join("   ").trimEnd();
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
    const stack = givenStack(request, context) ?? (hasFileConfig ? undefined : await stackName(request, context));
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
    const container = context.file.azure_storage?.storage_bucket ?? DEFAULT_CONTAINER;
    io.out(`Reading the local backend's data in ${dataDir}`);
    const { runtimes, executors } = await readLocalState(dataDir, container);
    const rows = runtimes.map((r) => [r.name, `${r.memory} MB`, r.nodeVersion, r.workerVersion, r.startedAt]);
    for (const line of table(["Runtime Name", "Memory Size", "Node.js", "lithops-aca Version", "Last Worker Start"], rows)) io.out(line);
    io.out(
      runtimes.length > 0
        ? `Total runtimes: ${runtimes.length} (local backend, job data of ${executors} executor${executors === 1 ? "" : "s"} kept; \`clean -b local\` removes it)`
        : "No runtimes deployed on the local backend (`npx lithops-aca hello -b local` runs the default one)",
    );
    return;
  }
  const session = await openStack(request, context, io);
  const outputs = await session.outputs();
  const rows = runtimeRows(outputs.runtimes?.value, await currentRuntimes(session));
  for (const line of table(["Runtime Name", "Memory Size", "Status", "Image", "Container App"], rows.map((r) => [r.name, `${r.memory} MB`, r.status, r.image, r.app]))) {
    io.out(line);
  }
  const deployed = rows.filter((r) => r.status.startsWith("deployed")).length;
  io.out(deployed > 0 ? `Total runtimes: ${deployed} deployed in stack '${session.name}'` : `No runtimes deployed in stack '${session.name}'`);
}

async function changeStack(request: Extract<CliRequest, { name: string }>, context: CliContext, io: CliIO): Promise<void> {
  if (context.backend === "local") {
    throw new CliError(
      `\`${request.command}\` changes the runtimes of a Pulumi stack (-b azure_containers); the local backend runs every runtime with this package's worker ` +
        "and needs no build or deploy: try `npx lithops-aca hello -b local`",
    );
  }
  checkArguments({
    name: request.name,
    memory: "memory" in request ? request.memory : undefined,
    timeout: "timeout" in request ? request.timeout : undefined,
    allowAll: request.command === "runtime update" || request.command === "runtime delete",
  });
  const session = await openStack(request, context, io);
  const current = await currentRuntimes(session);
  const ref: StackRef = { stack: session.name, project: session.project, projectRoot: context.workDir };
  let plan: StackPlan;
  switch (request.command) {
    case "runtime deploy":
      plan = planDeploy({ ...ref, current, name: request.name, memory: request.memory, timeout: request.timeout });
      break;
    case "runtime update":
      plan = planUpdate({ ...ref, current, name: request.name });
      break;
    case "runtime delete":
      plan = planDelete({ ...ref, current, name: request.name, memory: request.memory });
      break;
    case "runtime build": {
      const outputs = await session.outputs();
      const dockerfile = request.file ? projectDockerfile(request.file, context.cwd, context.workDir) : undefined;
      plan = planBuild({ ...ref, current, name: request.name, dockerfile, hasRegistry: typeof outputs.registryPrefix?.value === "string" });
      break;
    }
  }
  await runPlan(session, plan, io);
}

async function clean(request: CliRequest, context: CliContext, io: CliIO): Promise<void> {
  if (context.backend === "local") {
    const dataDir = localDataDir(context.file);
    io.out(`Cleaning the local backend's data in ${dataDir}`);
    const { existed, bytes } = cleanLocalDataDir(dataDir);
    io.out(
      existed
        ? `All lithops-aca local data cleaned: job data, runtime metadata and queues (${sizeText(bytes)}); config kept`
        : `Nothing to clean: ${dataDir} does not exist; config kept`,
    );
    return;
  }
  const session = await openStack(request, context, io);
  await runPlan(session, planClean({ stack: session.name, project: session.project, current: await currentRuntimes(session) }), io);
}

/** Errors whose message is the whole story (no stack trace without --debug). */
function explained(error: unknown): boolean {
  return [CliError, PlanError, StackError, ConfigError, LocalDataDirBusyError].some((type) => error instanceof type) || (error as Error).name === "RuntimeNotDeployedError";
}

/** Runs one parsed command; returns the exit code (0 done, 1 failed, with the reason and the next step on stderr). */
export async function execute(request: CliRequest, io: CliIO, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<number> {
  try {
    const { file, path } = loadCliConfig(request.config, env);
    const context: CliContext = { file, configPath: path, backend: resolveBackend(request, file, env), env, workDir: pulumiProjectDir(env), cwd };
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
      default:
        await changeStack(request, context, io);
    }
    return 0;
  } catch (error) {
    const err = error as Error;
    io.err(`Error: ${err.message}`);
    if (request.debug || !explained(error)) io.err(err.stack ?? String(error));
    return 1;
  }
}
