import { existsSync, rmSync } from "node:fs";
import { checkArguments, planClean, planDestroy, projectDockerfile, runtimeRows } from "../deploy/plans.ts";
import { pulumiProject } from "../deploy/pulumi-project.ts";
import { currentRuntimes, planRuntimeChange, stackRef, type RuntimeChange } from "../deploy/runtime-changes.ts";
import { runPlan, type CliIO } from "../deploy/run-plan.ts";
import { selectedStack, StackSession } from "../deploy/stack-session.ts";
import { givenStack, table, type CliContext } from "./commands.ts";
import { CliError } from "./errors.ts";
import type { CliRequest } from "./main.ts";

/**
 * The commands that act on a Pulumi stack (runtime build/deploy/update/delete/list, clean
 * and stack destroy of a stack). They need the optional Pulumi peers, so the command line
 * loads this file only for them (cli/commands.ts's stackCommands()).
 */

/** The stack a command acts on: --stack, LITHOPS_STACK, or the project's selected stack. */
export async function stackName(request: CliRequest, context: CliContext): Promise<string> {
  const name = givenStack(request, context) ?? (await selectedStack(pulumiProject(context.env, context.cwd)));
  if (!name) {
    throw new CliError(
      "no Pulumi stack given: pass --stack <name> (for example --stack dev), set LITHOPS_STACK, or select one with `pulumi stack select <name>` (`pulumi stack ls` lists them)",
    );
  }
  return name;
}

/** Selects the stack; `create` lets a command that deploys start a new stack of the inline program. */
async function openStack(name: string, context: CliContext, io: CliIO, options: { create?: boolean } = {}): Promise<StackSession> {
  const project = pulumiProject(context.env, context.cwd);
  io.out(
    project.kind === "local"
      ? `Selecting stack '${name}' of the Pulumi project in ${project.workDir}`
      : `Selecting stack '${name}' of lithops-aca's Pulumi program, stack files in ${project.workDir}`,
  );
  // A command that only reads a stack leaves no stack folder behind when it fails (no Pulumi CLI, no such stack).
  const leaveNoTrace = project.kind === "inline" && !options.create && !existsSync(project.workDir);
  try {
    return await StackSession.open(name, project, options);
  } catch (error) {
    if (leaveNoTrace) rmSync(project.workDir, { recursive: true, force: true });
    throw error;
  }
}

/** `runtime list` of a stack: the runtimes in its config and what is deployed of them. */
export async function listStackRuntimes(request: CliRequest, context: CliContext, io: CliIO): Promise<void> {
  const session = await openStack(await stackName(request, context), context, io);
  const outputs = await session.outputs();
  const rows = runtimeRows(outputs.runtimes?.value, await currentRuntimes(session));
  for (const line of table(
    ["Runtime Name", "Memory Size", "Status", "Image", "Container App"],
    rows.map((r) => [r.name, `${r.memory} MB`, r.status, r.image, r.app]),
  )) {
    io.out(line);
  }
  const deployed = rows.filter((r) => r.status.startsWith("deployed")).length;
  io.out(deployed > 0 ? `Total runtimes: ${deployed} deployed in stack '${session.name}'` : `No runtimes deployed in stack '${session.name}'`);
}

/** The change a runtime command asks for; `-f` is read relative to the current folder, as in Lithops. */
function runtimeChange(request: Extract<CliRequest, { name: string }>, context: CliContext): RuntimeChange {
  switch (request.command) {
    case "runtime deploy":
      return { command: "deploy", name: request.name, memory: request.memory, timeout: request.timeout };
    case "runtime update":
      return { command: "update", name: request.name };
    case "runtime delete":
      return { command: "delete", name: request.name, memory: request.memory };
    case "runtime build": {
      const dockerfile = request.file ? projectDockerfile(request.file, context.cwd, pulumiProject(context.env, context.cwd).root) : undefined;
      return { command: "build", name: request.name, dockerfile };
    }
  }
}

export async function changeStack(request: Extract<CliRequest, { name: string }>, context: CliContext, io: CliIO): Promise<void> {
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
  const change = runtimeChange(request, context);
  // A command that deploys may start a new stack (of the inline program); the others need one that exists.
  const create = change.command === "deploy" || change.command === "build";
  const session = await openStack(await stackName(request, context), context, io, { create });
  await runPlan(session, await planRuntimeChange(session, change), io);
}

/** `clean` of a stack: every runtime removed and the job data deleted, as `runtime delete all` plus the data; storage and config stay. */
export async function cleanStack(request: CliRequest, context: CliContext, io: CliIO): Promise<void> {
  const session = await openStack(await stackName(request, context), context, io);
  const outputs = await session.outputs();
  if (outputs.clientConfig === undefined) {
    // Nothing deployed: an `up` now would create the stack's resources rather than clean them.
    io.out(`Nothing to clean: stack '${session.name}' is not deployed (it has no outputs); its config is unchanged`);
    return;
  }
  const deployed = outputs.runtimes?.value;
  const plan = planClean({ ...stackRef(session), current: await currentRuntimes(session), deployedRuntimes: Array.isArray(deployed) && deployed.length > 0 });
  await runPlan(session, plan, io);
}

/**
 * `stack destroy --stack NAME`: `pulumi destroy`, the storage account and every object in it
 * included. Only for a stack named on the command line, and only once confirmed: the name
 * typed on the terminal, or --yes.
 */
export async function destroyStack(request: Extract<CliRequest, { command: "stack destroy" }>, context: CliContext, io: CliIO): Promise<void> {
  const name = request.stack;
  if (!name) {
    throw new CliError("stack destroy needs the stack named with --stack <name>; it never destroys the stack of LITHOPS_STACK or the selected one");
  }
  const session = await openStack(name, context, io);
  const what = `every resource of stack '${name}', the storage account with all its objects (job data and your own data) included`;
  if (!request.yes) {
    if (!io.ask) throw new CliError(`stack destroy deletes ${what}: pass --yes to confirm (there is no terminal to ask on)`);
    const answer = await io.ask(`This deletes ${what}. Type the stack name to confirm: `);
    if (answer.trim() !== name) throw new CliError(`not confirmed (typed ${JSON.stringify(answer.trim())}, not '${name}'): nothing was destroyed`);
  }
  await runPlan(session, planDestroy({ stack: session.name, project: session.project, current: await currentRuntimes(session) }), io);
}
