import { Command } from "commander";

/** `lithops-aca dashboard <executorId>` as parsed (cli/dashboard.ts runs it); main.ts adds the common options. */
export function dashboardCommand(onRequest: (executorId: string, options: Record<string, unknown>) => void): Command {
  return new Command("dashboard")
    .description(
      "serve a live web page of an executor's jobs (calls by state, timeline, workers, failures, logs, cost), read from storage, on loopback until Ctrl-C",
    )
    .argument("<executorId>", "the executor whose jobs to show, as futures and errors name it (the part before /: 3fa2c1-1 of 3fa2c1-1/M000)")
    .action(onRequest);
}
