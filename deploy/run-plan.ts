import { resolveConfig } from "../client/config.ts";
import { deleteJobData } from "./job-data.ts";
import type { StackSession } from "./stack-session.ts";
import type { StackPlan } from "./plans.ts";

/** Where the command line writes: progress and results to `out`, problems to `err`. */
export interface CliIO {
  out(line: string): void;
  err(line: string): void;
  /** Print Pulumi's whole output and error stacks. */
  debug: boolean;
  /** Asks a question on the user's terminal and returns the answer; absent without a terminal. */
  ask?(question: string): Promise<string>;
}

/** Pulumi's progress lines worth showing without --debug: resource steps, errors, the summary. */
const INTERESTING =
  /^\s*(?:[+~-]|\+-|-\+|[<>]-?)\s+\S|error:|warning:|^\s*Resources:|^\s*\d+ (?:created|updated|deleted|replaced|unchanged|to create|to update|to delete)|^\s*Duration:/;

/** Turns Pulumi's streamed output into lines on io.out (indented), filtered unless --debug. */
export function pulumiOutputPrinter(io: CliIO): { onOutput: (text: string) => void; flush: () => void } {
  let pending = "";
  const emit = (line: string) => {
    if (line.trim() !== "" && (io.debug || INTERESTING.test(line))) io.out(`  ${line.trimEnd()}`);
  };
  return {
    onOutput: (text) => {
      pending += text;
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const line of lines) emit(line);
    },
    flush: () => {
      emit(pending);
      pending = "";
    },
  };
}

function shellWord(text: string): string {
  return /^[\w@%+=:,./[\]-]+$/.test(text) ? text : `'${text.replace(/'/g, "'\\''")}'`;
}

/** Carries out a plan on a selected stack: config changes first, then `pulumi up` / `destroy`; ends with the plan's one-line result. */
export async function runPlan(session: StackSession, plan: StackPlan, io: CliIO): Promise<void> {
  for (const note of plan.notes) io.out(note);
  let configChanged = false;
  for (const step of plan.steps) {
    const printer = pulumiOutputPrinter(io);
    try {
      switch (step.kind) {
        case "removeConfig":
          io.out(`pulumi config rm-all --path ${step.paths.map(shellWord).join(" ")} --stack ${session.name}`);
          await session.removePaths(step.paths);
          configChanged = true;
          break;
        case "setConfig":
          io.out(
            `pulumi config set-all --path ${Object.entries(step.values)
              .map(([path, value]) => `--plaintext ${shellWord(`${path}=${value}`)}`)
              .join(" ")} --stack ${session.name}`,
          );
          await session.setPaths(step.values);
          configChanged = true;
          break;
        case "up":
          io.out(
            step.target
              ? `pulumi up --stack ${session.name} ${step.target.map((urn) => `--target ${shellWord(urn)}`).join(" ")}`
              : `pulumi up --stack ${session.name}`,
          );
          await session.up({ target: step.target, onOutput: printer.onOutput });
          break;
        case "destroy":
          io.out(`pulumi destroy --stack ${session.name}`);
          await session.destroy({ onOutput: printer.onOutput });
          break;
        case "deleteData": {
          // The stack's storage, as its clients reach it: the clientConfig output.
          const storage = resolveConfig({ backend: "azure_containers", config: await session.clientConfig() }, {}).storage;
          const account = storage.accountName ?? "the stack's storage account";
          io.out(`deleting ${step.prefixes.join(" and ")} in container ${storage.container} of ${account}`);
          const { blobs } = await deleteJobData(storage, step.prefixes);
          io.out(`  ${blobs} object${blobs === 1 ? "" : "s"} deleted`);
          break;
        }
      }
    } catch (error) {
      printer.flush();
      if (configChanged && (step.kind === "up" || step.kind === "destroy")) {
        (error as Error).message +=
          `\nThe stack's config was already changed (\`pulumi config --stack ${session.name}\` shows it): ` +
          `fix the problem above, then run \`pulumi up --stack ${session.name}\` or this command again.`;
      }
      throw error;
    }
    printer.flush();
  }
  io.out(plan.result);
}
