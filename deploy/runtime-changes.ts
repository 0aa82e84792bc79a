import { planBuild, planDelete, planDeploy, planUpdate, RUNTIMES_KEY, type RuntimeEntry, type StackPlan, type StackRef } from "./plans.ts";
import { PlanError } from "./errors.ts";
import { pulumiProject } from "./pulumi-project.ts";
import { runPlan, type CliIO } from "./run-plan.ts";
import { StackSession } from "./stack-session.ts";

/**
 * The runtime commands on an open stack: read its runtimes, plan the change, check what
 * `pulumi up` will need. `lithops-aca runtime deploy|update|delete|build` and autoDeploy both
 * go through here, so a runtime deployed by a client is deployed exactly as by the command.
 */

export type RuntimeChange =
  | { command: "deploy"; name: string; memory?: number; timeout?: number }
  | { command: "update"; name: string }
  | { command: "delete"; name: string; memory?: number }
  /** `dockerfile`: relative to the project root (deploy/plans.ts projectDockerfile). */
  | { command: "build"; name: string; dockerfile?: string };

/** The stack's `<project>:runtimes`, or undefined when the stack does not set it (the program's default runtime). */
export async function currentRuntimes(session: StackSession): Promise<RuntimeEntry[] | undefined> {
  const value = await session.getJson(RUNTIMES_KEY);
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((entry) => typeof entry !== "object" || entry === null || typeof (entry as RuntimeEntry).name !== "string")) {
    throw new PlanError(
      `${session.project}:${RUNTIMES_KEY} of stack '${session.name}' is not a list of runtimes with a name each: fix it in Pulumi.${session.shortName}.yaml (see Pulumi.dev.yaml)`,
    );
  }
  return value as RuntimeEntry[];
}

export function stackRef(session: StackSession): StackRef {
  return { stack: session.name, project: session.project, projectRoot: session.pulumiProject.root };
}

/** The inline program reads the region from `azure-native:location`; a stack it created has none yet. */
async function checkRegion(session: StackSession): Promise<void> {
  if (session.pulumiProject.kind !== "inline" || (await session.getConfig("azure-native:location")) !== undefined) return;
  throw new PlanError(
    `stack '${session.name}' has no Azure region yet: run \`pulumi config set azure-native:location <region> --stack ${session.name} --cwd ${session.pulumiProject.workDir}\` ` +
      "(for example westeurope), then this command again",
  );
}

/** The plan of a runtime command on the stack as it is now. */
export async function planRuntimeChange(session: StackSession, change: RuntimeChange): Promise<StackPlan> {
  await checkRegion(session);
  const ref = stackRef(session);
  const current = await currentRuntimes(session);
  switch (change.command) {
    case "deploy":
      return planDeploy({ ...ref, current, name: change.name, memory: change.memory, timeout: change.timeout });
    case "update":
      return planUpdate({ ...ref, current, name: change.name });
    case "delete":
      return planDelete({ ...ref, current, name: change.name, memory: change.memory });
    case "build": {
      const outputs = await session.outputs();
      return planBuild({ ...ref, current, name: change.name, dockerfile: change.dockerfile, hasRegistry: typeof outputs.registryPrefix?.value === "string" });
    }
  }
}

/**
 * autoDeploy: `runtime deploy RUNTIME --memory MB` on the stack, run in this process on the
 * project of the current folder (deploy/pulumi-project.ts), with its progress lines to `log`.
 */
export async function deployRuntime(stack: string, runtime: string, memory: number, log: (line: string) => void): Promise<void> {
  const session = await StackSession.open(stack, pulumiProject());
  const io: CliIO = { out: log, err: log, debug: false };
  await runPlan(session, await planRuntimeChange(session, { command: "deploy", name: runtime, memory }), io);
}
