import { isNotFound } from "../azure/storage-connection.ts";
import { pricesFrom, DEFAULT_AZURE_COOLDOWN_SECONDS } from "../client/cost.ts";
import { serveDashboard } from "../client/dashboard/server.ts";
import { StorageSource } from "../client/dashboard/storage-source.ts";
import type { CliIO } from "../deploy/run-plan.ts";
import { assertId } from "../protocol/keys.ts";
import { BlobJobStorage } from "../runtime-model/storage-account-backend.ts";
import type { CliContext } from "./commands.ts";
import { DashboardError } from "./errors.ts";
import { withJobContainer } from "./logs.ts";
import type { CliRequest } from "./main.ts";

/**
 * `lithops-aca dashboard <executorId>`: the live dashboard of an executor's jobs (client/dashboard/),
 * read from storage alone, so a job submitted by another process, or by a client that has
 * closed, can be watched. Serves on loopback until Ctrl-C and prints the page's URL.
 */

function checkedExecutorId(text: string): string {
  try {
    return assertId("executor id", text);
  } catch (error) {
    throw new DashboardError(
      `executor id ${JSON.stringify(text)} is not valid (${(error as Error).message}): give the part before / of a job id, e.g. 3fa2c1-1`,
    );
  }
}

/** Serves the dashboard until SIGINT or SIGTERM (or `signal`, for tests). */
export async function runDashboard(
  request: Extract<CliRequest, { command: "dashboard" }>,
  context: CliContext,
  io: CliIO,
  signal?: AbortSignal,
): Promise<void> {
  const executorId = checkedExecutorId(request.executorId);
  await withJobContainer(request, context, async (_container, clients, config) => {
    const source = new StorageSource(new BlobJobStorage(clients), executorId, {
      cooldownSeconds: config.backend === "local" ? config.local.cooldown : (config.cost.cooldown_seconds ?? DEFAULT_AZURE_COOLDOWN_SECONDS),
      prices: pricesFrom(config.cost),
    });
    // Read once now: storage that cannot be read fails the command, not just the page.
    const calls = await source.calls().catch((error: unknown) => {
      if (!isNotFound(error)) throw error;
      throw new DashboardError(
        `no job data in this storage (container '${config.storage.container}' does not exist): no job ran here yet, or another backend or stack holds it`,
      );
    });
    if (calls.length === 0) io.err(`No jobs of executor ${executorId} in storage yet: the page shows them once they are submitted`);
    const dashboard = await serveDashboard(source, { holdProcess: true });
    io.out(dashboard.url);
    io.err(`Dashboard of executor ${executorId} on ${context.backend}: open the URL above on this machine (Ctrl-C to stop)`);
    await new Promise<void>((resolve) => {
      const stop = (): void => {
        process.off("SIGINT", stop).off("SIGTERM", stop);
        resolve();
      };
      process.on("SIGINT", stop).on("SIGTERM", stop);
      signal?.addEventListener("abort", stop, { once: true });
    });
    await dashboard.close();
  });
}
