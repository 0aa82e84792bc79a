import { StackError } from "./errors.ts";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import type { LocalWorkspaceOptions, OutputMap, Stack, UpOptions } from "@pulumi/pulumi/automation/index.js";
import { parse as parseYaml } from "yaml";
import { validateConfigFile, type LithopsConfigFile } from "../client/config.ts";
import { ConfigError } from "../client/errors.ts";
import { assertProvidersInstalled, inlineProgram } from "./inline-program.ts";
import { INLINE_PROJECT_DESCRIPTION, INLINE_PROJECT_NAME, pulumiProject, type PulumiProject } from "./pulumi-project.ts";

const INSTALL_HINT =
  "install the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/: `curl -fsSL https://get.pulumi.com | sh` on Linux, " +
  "`brew install pulumi/tap/pulumi` on macOS, `winget install pulumi` on Windows), make sure `pulumi version` works in this shell, then run `pulumi login`";

interface CommandResultLike {
  stdout?: string;
  stderr?: string;
  code?: number;
  err?: { code?: string; message?: string };
}

/** The `error:` lines of the CLI's output, or its last lines when it printed none. */
function errorLines(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trimEnd())
    .filter((l) => l.trim() !== "");
  const errors = lines.filter((l) => /^\s*error:/i.test(l));
  return (errors.length > 0 ? errors : lines.slice(-6)).join("\n");
}

export interface ErrorContext {
  stack?: string;
  project: PulumiProject;
}

/** Turns an Automation API failure into a StackError that names the next step. */
export function explainPulumiError(error: unknown, context: ErrorContext): Error {
  if (error instanceof StackError || error instanceof ConfigError) return error;
  const err = error as Error & { commandResult?: CommandResultLike };
  const result = err.commandResult;
  const stderr = result?.stderr ?? "";
  const stdout = result?.stdout ?? "";
  const text = `${stderr}\n${stdout}\n${err.message ?? ""}`;
  const stack = context.stack ?? "<stack>";
  const details = errorLines(stderr || stdout || err.message || "");
  const withDetails = (message: string) => (details ? `${message}\n  pulumi said: ${details.replace(/\n/g, "\n  ")}` : message);
  if (result?.err?.code === "ENOENT" || /\bENOENT\b/.test(stderr) || /spawn pulumi/.test(text)) {
    return new StackError(`the Pulumi CLI is not installed (no \`pulumi\` on PATH): ${INSTALL_HINT}`, "cli-missing");
  }
  if (/Minimum version requirement failed|Major version mismatch|Failed to parse Pulumi CLI version/.test(text)) {
    return new StackError(`${err.message.split("\n")[0]}: update the Pulumi CLI (https://www.pulumi.com/docs/iac/download-install/)`, "cli-too-old");
  }
  if (err.name === "StackNotFoundError" || /no stack named .* found/.test(text)) {
    const { workDir } = context.project;
    return new StackError(
      context.project.kind === "inline"
        ? `stack '${stack}' does not exist in ${workDir}: \`npx lithops-aca runtime deploy default --stack ${stack}\` creates it, ` +
            "or pass an existing one with --stack"
        : `stack '${stack}' does not exist in the Pulumi project at ${workDir}: create it with \`pulumi stack init ${stack}\` ` +
            `and \`pulumi config set azure-native:location <region>\` (the runtimes go in Pulumi.${stack}.yaml, see Pulumi.dev.yaml), ` +
            "or pass an existing one with --stack (`pulumi stack ls` lists them)",
      "stack-not-found",
    );
  }
  if (/PULUMI_ACCESS_TOKEN must be set|not logged in|Unauthorized|\[401\]|invalid access token|pulumi login/i.test(text)) {
    return new StackError(
      withDetails(
        "not logged in to a Pulumi backend: run `pulumi login` (Pulumi Cloud), or `pulumi login --local` / `pulumi login azblob://<container>` " +
          "for a self-managed backend; in CI set PULUMI_ACCESS_TOKEN",
      ),
      "not-logged-in",
      details,
    );
  }
  if (/PULUMI_CONFIG_PASSPHRASE|passphrase must be set|incorrect passphrase/i.test(text)) {
    return new StackError(
      withDetails(`stack '${stack}' encrypts its secrets with a passphrase: set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) and retry`),
      "passphrase",
      details,
    );
  }
  if (err.name === "ConcurrentUpdateError" || /Another update is currently in progress|currently locked by/.test(text)) {
    return new StackError(
      withDetails(`another update of stack '${stack}' is running: wait for it to finish, or run \`pulumi cancel --stack ${stack}\` if it died`),
      "busy",
      details,
    );
  }
  if (/az login|Azure CLI|AADSTS|obtain subscription|building auth config|DefaultAzureCredential|No subscription found/i.test(text)) {
    return new StackError(
      withDetails(
        "not logged in to Azure: run `az login` (and `az account set --subscription <id>`), or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, " +
          "ARM_TENANT_ID and ARM_SUBSCRIPTION_ID for a service principal, then retry",
      ),
      "azure-login",
      details,
    );
  }
  if (/Cannot connect to the Docker daemon|docker daemon|error during connect|docker: not found/i.test(text)) {
    return new StackError(
      withDetails("building a runtime image needs a running Docker engine: start Docker and retry (prebuilt images need no Docker)"),
      "docker",
      details,
    );
  }
  return new StackError(withDetails(`pulumi failed on stack '${stack}'${result?.code !== undefined ? ` (exit code ${result.code})` : ""}`), "pulumi", details);
}

type Automation = typeof import("@pulumi/pulumi/automation/index.js");
let automationModule: Promise<Automation> | undefined;

/** The Automation API, loaded on first use (it is large and most clients never need it). */
function automation(): Promise<Automation> {
  automationModule ??= import("@pulumi/pulumi/automation/index.js");
  return automationModule;
}

/** The stack the Pulumi CLI has selected in the project, if any (`pulumi stack ls`); none before the inline workspace exists. */
export async function selectedStack(project: PulumiProject = pulumiProject()): Promise<string | undefined> {
  if (project.kind === "inline" && !existsSync(project.workDir)) return undefined;
  try {
    const auto = await automation();
    const workspace = await auto.LocalWorkspace.create({ workDir: project.workDir });
    return (await workspace.stack())?.name;
  } catch (error) {
    throw explainPulumiError(error, { project });
  }
}

/** The inline workspace's Pulumi.yaml: the project name is the config namespace; the description marks it as ours. */
const INLINE_PROJECT_SETTINGS: LocalWorkspaceOptions["projectSettings"] = {
  name: INLINE_PROJECT_NAME,
  runtime: "nodejs",
  description: INLINE_PROJECT_DESCRIPTION,
};

/** A selected stack of the project, with the few operations lithops-aca needs. */
export class StackSession {
  private constructor(
    readonly stack: Stack,
    /** The stack name as given (may be `org/name`). */
    readonly name: string,
    /** The Pulumi project name (Pulumi.yaml `name`): the namespace of its config keys. */
    readonly project: string,
    /** Where the project is, and whether its program is the user's or this package's (inline). */
    readonly pulumiProject: PulumiProject,
  ) {}

  /**
   * Selects the stack (`pulumi stack select`); fails with the next step when the CLI, the login
   * or the stack is missing. `create` makes a missing stack of the inline program (`pulumi
   * stack init`); a stack of the user's own project is theirs to create.
   */
  static async open(name: string, project: PulumiProject = pulumiProject(), options: { create?: boolean } = {}): Promise<StackSession> {
    try {
      const auto = await automation();
      let stack: Stack;
      if (project.kind === "inline") {
        mkdirSync(project.workDir, { recursive: true });
        const args = { stackName: name, projectName: INLINE_PROJECT_NAME, program: inlineProgram(project.root) };
        // Written once: a Pulumi.yaml the user has since edited (a backend URL, say) is kept.
        const written = existsSync(join(project.workDir, "Pulumi.yaml"));
        const workspace = { workDir: project.workDir, ...(written ? {} : { projectSettings: INLINE_PROJECT_SETTINGS }) };
        stack = options.create ? await auto.LocalWorkspace.createOrSelectStack(args, workspace) : await auto.LocalWorkspace.selectStack(args, workspace);
      } else {
        stack = await auto.LocalWorkspace.selectStack({ stackName: name, workDir: project.workDir });
      }
      const projectName = (await stack.workspace.projectSettings()).name;
      return new StackSession(stack, name, projectName, project);
    } catch (error) {
      throw explainPulumiError(error, { stack: name, project });
    }
  }

  /** The last part of the stack name, as it appears in resource URNs. */
  get shortName(): string {
    return this.name.split("/").pop() ?? this.name;
  }

  private explain(error: unknown): Error {
    return explainPulumiError(error, { stack: this.name, project: this.pulumiProject });
  }

  /** A structured config value of the project (`<project>:<key>`), or undefined when the stack does not set it. */
  getJson(key: string): Promise<unknown> {
    return this.getConfig(`${this.project}:${key}`);
  }

  /** A config value by its full key (`azure-native:location`), parsed when it is JSON; undefined when the stack does not set it. */
  async getConfig(fullKey: string): Promise<unknown> {
    try {
      const value = await this.stack.getConfig(fullKey);
      const object = (value as { objectValue?: unknown }).objectValue;
      if (object !== undefined) return object;
      try {
        return JSON.parse(value.value);
      } catch {
        return value.value;
      }
    } catch (error) {
      const stderr = (error as { commandResult?: CommandResultLike }).commandResult?.stderr ?? "";
      if (/configuration key .* not found/.test(stderr)) return undefined;
      throw this.explain(error);
    }
  }

  /** `pulumi config set-all --path --plaintext <path>=<value> ...`: "true"/"false" and integers become booleans and numbers. */
  async setPaths(values: Record<string, string>): Promise<void> {
    const map = Object.fromEntries(Object.entries(values).map(([path, value]) => [path, { value, secret: false }]));
    try {
      await this.stack.setAllConfig(map, true);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** `pulumi config rm-all --path <path> ...`, in the order given (a removed list element shifts the ones after it). */
  async removePaths(paths: string[]): Promise<void> {
    try {
      await this.stack.removeAllConfig(paths, true);
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** The inline program runs in this process: its providers must be installed here. */
  private checkProgram(): void {
    if (this.pulumiProject.kind === "inline") assertProvidersInstalled();
  }

  async up(options: { target?: string[]; onOutput?: (text: string) => void } = {}): Promise<void> {
    this.checkProgram();
    const upOptions: UpOptions = { onOutput: options.onOutput, color: "never" };
    if (options.target) upOptions.target = options.target;
    try {
      await this.stack.up(upOptions);
    } catch (error) {
      throw this.explain(error);
    }
  }

  async destroy(options: { onOutput?: (text: string) => void } = {}): Promise<void> {
    this.checkProgram();
    try {
      await this.stack.destroy({ onOutput: options.onOutput, color: "never" });
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** The stack's outputs, secrets revealed (`pulumi stack output --json --show-secrets`). */
  async outputs(): Promise<OutputMap> {
    try {
      return await this.stack.outputs();
    } catch (error) {
      throw this.explain(error);
    }
  }

  /** The stack's `clientConfig` output: the Lithops-style config a client needs, validated. */
  async clientConfig(): Promise<LithopsConfigFile> {
    const text = (await this.outputs()).clientConfig?.value;
    if (typeof text !== "string") {
      throw new StackError(
        `stack '${this.name}' has no clientConfig output: it is not deployed (or was cleaned). ` +
          `Deploy it with \`npx lithops-aca runtime deploy default --stack ${this.name}\` or \`pulumi up --stack ${this.name}\``,
        "no-outputs",
      );
    }
    let raw: unknown;
    try {
      raw = parseYaml(text);
    } catch (error) {
      throw new ConfigError(`stack '${this.name}' clientConfig output is not valid YAML: ${(error as Error).message.split("\n")[0]}`);
    }
    return validateConfigFile(raw, `stack '${this.name}' clientConfig output`);
  }
}

/** What `new FunctionExecutor({ stack })` reads: the stack's clientConfig output. */
export async function readStackClientConfig(stack: string, project: PulumiProject = pulumiProject()): Promise<LithopsConfigFile> {
  const session = await StackSession.open(stack, project);
  return session.clientConfig();
}
