import { Command, CommanderError, InvalidArgumentError, Option } from "commander";
import { INLINE_WORKSPACE_DIR, PULUMI_DIR_ENV } from "../deploy/pulumi-project.ts";
import { BACKENDS, type BackendName } from "../protocol/env.ts";
import { PACKAGE_VERSION } from "../protocol/version.ts";
import { dashboardCommand } from "./dashboard-command.ts";

/**
 * The lithops-aca command line: Lithops's commands, words and flags (`hello`, `runtime
 * build|deploy|update|delete|list`, `clean`, `-b/--backend`, `-s/--storage`, `-c/--config`,
 * `-f`, `--memory`, `-d/--debug`), plus `--stack` for the Pulumi stack the runtimes live in
 * and `stack destroy`, Pulumi's destroy, which Lithops has no word for.
 * Parsing only turns argv into a CliRequest; cli/commands.ts carries it out.
 */

export interface CommonOptions {
  backend?: BackendName;
  storage?: string;
  stack?: string;
  config?: string;
  debug: boolean;
}

export type CliRequest =
  | ({ command: "hello" } & CommonOptions)
  | ({ command: "runtime build"; name: string; file?: string } & CommonOptions)
  | ({ command: "runtime deploy"; name: string; memory?: number; timeout?: number } & CommonOptions)
  | ({ command: "runtime update"; name: string } & CommonOptions)
  | ({ command: "runtime delete"; name: string; memory?: number } & CommonOptions)
  | ({ command: "runtime list" } & CommonOptions)
  | ({ command: "clean" } & CommonOptions)
  | ({ command: "stack destroy"; yes: boolean } & CommonOptions)
  | ({ command: "logs get"; job: string } & CommonOptions)
  | ({ command: "logs poll"; job?: string } & CommonOptions)
  | ({ command: "job cancel"; job: string } & CommonOptions)
  | ({ command: "dashboard"; executorId: string } & CommonOptions);

export const STORAGES = ["azure_storage", "local"] as const;

function wholeNumber(what: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value)) throw new InvalidArgumentError(`${what} must be a whole number, got ${JSON.stringify(value)}`);
    return Number(value);
  };
}

/** Adds the options every command takes, in Lithops's words. */
function common(command: Command): Command {
  return command
    .option("-c, --config <path>", "path to yaml config file (default: $LITHOPS_CONFIG_FILE, ./.lithops_config, ~/.lithops/config)")
    .addOption(new Option("-b, --backend <backend>", "compute backend (localhost: Lithops's name for local)").choices([...BACKENDS, "localhost"]))
    .option("--stack <stack>", "Pulumi stack of the runtimes (default: $LITHOPS_STACK, else the stack selected with `pulumi stack select`)")
    .addOption(new Option("-s, --storage <storage>", "storage backend").choices(STORAGES))
    .option("-d, --debug", "debug mode: Pulumi's whole output and error stacks", false);
}

function commonOf(options: Record<string, unknown>): CommonOptions {
  return {
    // As in the config file and the executor's `backend` option.
    backend: options.backend === "localhost" ? "local" : (options.backend as BackendName | undefined),
    storage: options.storage as string | undefined,
    stack: options.stack as string | undefined,
    config: options.config as string | undefined,
    debug: Boolean(options.debug),
  };
}

export interface ProgramOutput {
  writeOut(text: string): void;
  writeErr(text: string): void;
}

/** The commander program; `onRequest` receives what the user asked for. */
export function buildProgram(onRequest: (request: CliRequest) => void, output: ProgramOutput): Command {
  const program = new Command("lithops-aca")
    .description(
      "Lithops-style command line for lithops-aca: runtimes on Azure Container Apps, kept in a Pulumi stack. " +
        "Runtime commands change the stack's config and run `pulumi up` through the Pulumi Automation API (they need the Pulumi CLI); " +
        "-b local acts on the embedded local backend (Azurite + local workers).",
    )
    .addHelpText(
      "after",
      [
        "",
        "Examples:",
        "  npx lithops-aca hello -b local",
        "  npx lithops-aca runtime deploy default --stack dev",
        "  npx lithops-aca runtime build -f runtimes/examples/imaging/Dockerfile myaccount/imaging:01 --stack dev",
        "  npx lithops-aca runtime deploy myaccount/imaging:01 --memory 2048 --stack dev",
        "  npx lithops-aca runtime update all --stack dev",
        "  npx lithops-aca runtime delete myaccount/imaging:01 --stack dev",
        "  npx lithops-aca runtime list --stack dev",
        "  npx lithops-aca clean --stack dev",
        "  npx lithops-aca clean -b local",
        "  npx lithops-aca stack destroy --stack dev",
        "",
        "Each command takes -b/--backend local|azure_containers, -s/--storage azure_storage, --stack <stack>, -c/--config <path> and -d/--debug;",
        "Run from a folder with a Pulumi project (Pulumi.yaml), the commands use that project; elsewhere lithops-aca's own program,",
        `with the stack files in ./${INLINE_WORKSPACE_DIR}/ (or $${PULUMI_DIR_ENV}).`,
        "`lithops-aca <command> --help` tells more. docs/cli.md explains what each command does to the Pulumi stack.",
      ].join("\n"),
    )
    .version(PACKAGE_VERSION, "-V, --version", "show the version and exit")
    .configureOutput({ writeOut: output.writeOut, writeErr: output.writeErr })
    .exitOverride()
    .showHelpAfterError("(add --help for usage)");

  common(program.command("hello"))
    .description("runs a hello-world function on the backend, to check that everything works")
    .action((options: Record<string, unknown>) => onRequest({ command: "hello", ...commonOf(options) }));

  const logs = program.command("logs").description("the console output of calls, captured by the workers (up to 64 KiB per call)");
  const jobHelp = "<executorId>/<jobId> as futures and errors name it (e.g. 3fa2c1-1/M000), or an executor id for all of its jobs";
  common(logs.command("get"))
    .description("print the logs of a job's finished calls")
    .argument("<job>", jobHelp)
    .action((job: string, options: Record<string, unknown>) => onRequest({ command: "logs get", job, ...commonOf(options) }));
  common(logs.command("poll"))
    .description("follow the logs of running jobs: print each call's output as its batch finishes, until Ctrl-C")
    .argument("[job]", `${jobHelp} (default: every job)`)
    .action((job: string | undefined, options: Record<string, unknown>) => onRequest({ command: "logs poll", job, ...commonOf(options) }));

  common(program.command("job").description("jobs in storage").command("cancel"))
    .description("cancel a job's unfinished calls (all jobs of an executor without /<jobId>): queued ones never start, running ones are stopped")
    .argument("<job>", "<executorId>/<jobId> as futures and errors name it (e.g. 3fa2c1-1/M000), or an executor id for all of its jobs")
    .action((job: string, options: Record<string, unknown>) => onRequest({ command: "job cancel", job, ...commonOf(options) }));

  program.addCommand(common(dashboardCommand((executorId, options) => onRequest({ command: "dashboard", executorId, ...commonOf(options) }))));

  common(program.command("clean"))
    .description(
      "deletes every runtime and the job data and runtime metadata (lithops.jobs/, lithops.runtimes/): with a stack, `runtime delete all` and `pulumi up`, " +
        "then the data in its storage; with -b local, the local backend's. The storage account, your other objects, the config and the stack stay",
    )
    .action((options: Record<string, unknown>) => onRequest({ command: "clean", ...commonOf(options) }));

  const stack = program.command("stack").description("the Pulumi stack itself (Lithops has no such command)");

  common(stack.command("destroy"))
    .description(
      "`pulumi destroy` of the stack named with --stack: every resource, the storage account with all its objects included; the stack and its config stay. " +
        "Asks for the stack name on a terminal; --yes skips the question (needed without a terminal)",
    )
    .option("-y, --yes", "destroy without asking", false)
    .action((options: Record<string, unknown>) => onRequest({ command: "stack destroy", yes: Boolean(options.yes), ...commonOf(options) }));

  const runtime = program
    .command("runtime")
    .description("build, deploy, update, delete and list runtimes (a runtime is an image + a Container App scaling on a queue)");

  common(runtime.command("build"))
    .description("build a runtime image and push it to the stack's registry (`pulumi up` targeted at the image); `runtime deploy` then deploys it")
    .argument("<name>", "runtime name: the image name, e.g. myaccount/lithops-ca-custom:01 (lower case)")
    .option("-f, --file <path>", "file needed to build the runtime: the Dockerfile, inside the project (default: ./Dockerfile)")
    .action((name: string, options: Record<string, unknown>) =>
      onRequest({ command: "runtime build", name, file: options.file as string | undefined, ...commonOf(options) }),
    );

  common(runtime.command("deploy"))
    .description("deploy a runtime: list it in the stack's config and run `pulumi up`")
    .argument("[name]", "'default' (built for this machine's Node.js major) or an image, e.g. myaccount/node-tools:01", "default")
    .option("--memory <mb>", "memory used by the runtime, in MB (512, 1024, 1536, 2048, 3072, 4096, 8192, ...; default 512)", wholeNumber("--memory"))
    .option("--timeout <seconds>", "runtime timeout, in seconds (default 600)", wholeNumber("--timeout"))
    .action((name: string, options: Record<string, unknown>) =>
      onRequest({
        command: "runtime deploy",
        name,
        memory: options.memory as number | undefined,
        timeout: options.timeout as number | undefined,
        ...commonOf(options),
      }),
    );

  common(runtime.command("update"))
    .description("update a runtime: rebuild its image and roll a new Container App revision (`pulumi up`), even if nothing else changed")
    .argument("[name]", "runtime name, or 'all' for every runtime of the stack", "default")
    .action((name: string, options: Record<string, unknown>) => onRequest({ command: "runtime update", name, ...commonOf(options) }));

  common(runtime.command("delete"))
    .description("delete a runtime: remove it from the stack's config and run `pulumi up`, which deletes its app and queues")
    .argument("[name]", "runtime name, or 'all'", "default")
    .option("--memory <mb>", "only the runtime of this memory size (default: every size)", wholeNumber("--memory"))
    .action((name: string, options: Record<string, unknown>) =>
      onRequest({ command: "runtime delete", name, memory: options.memory as number | undefined, ...commonOf(options) }),
    );

  common(runtime.command("list"))
    .description("list all deployed runtimes: the stack's outputs (and what its config lists but is not deployed); with -b local, what the local backend ran")
    .action((options: Record<string, unknown>) => onRequest({ command: "runtime list", ...commonOf(options) }));

  return program;
}

export interface Parsed {
  /** Undefined when help or the version was shown, or the command line was wrong. */
  request?: CliRequest;
  /** Commander's exit code when it stopped (0 after --help, 1 for a usage error). */
  exitCode: number;
}

/** argv (without node and the script) -> what to do. Help and usage errors are written to `output`. */
export function parseCommandLine(argv: readonly string[], output: ProgramOutput): Parsed {
  let request: CliRequest | undefined;
  const program = buildProgram((r) => (request = r), output);
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) return { exitCode: error.exitCode };
    throw error;
  }
  if (!request) {
    // `lithops-aca` alone, or `lithops-aca runtime` / `stack`: show what there is.
    const sub = program.commands.find((c) => c.name() === argv[0] && c.commands.length > 0) ?? program;
    output.writeErr(sub.helpInformation());
    return { exitCode: 1 };
  }
  return { request, exitCode: 0 };
}

/** Runs the command line; returns the process exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const output: ProgramOutput = { writeOut: (text) => process.stdout.write(text), writeErr: (text) => process.stderr.write(text) };
  const { request, exitCode } = parseCommandLine(argv, output);
  if (!request) return exitCode;
  const { execute, consoleIO } = await import("./commands.ts");
  return execute(request, consoleIO(request.debug));
}
