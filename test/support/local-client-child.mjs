/**
 * A client that test/local/client-death.test.ts ends in various ways (plain JavaScript on the
 * built package, as a user's program would be: dist/test/support/executor.js). It maps calls that
 * sleep for a minute on two local workers; once both workers run, it prints one JSON line
 * (its pid, the worker pids and its workers' log folder), then, by argv[2]:
 * - "wait": waits to be signalled (SIGINT, SIGTERM, SIGKILL);
 * - "throw": throws an uncaught exception once the test writes a line to its stdin;
 * - "own-handler": installs its own SIGINT handler, which prints "user handler" and exits with code 7 shortly after.
 * With "start" it only starts the local backend and closes it (the next start that sweeps what a killed client left).
 */
import { dirname } from "node:path";
import { testExecutor } from "../../dist/test/support/executor.js";

const mode = process.argv[2];
const fexec = testExecutor({ maxWorkers: 2 });
const backend = await fexec.backend();
if (mode === "start") {
  await fexec.close();
  process.exit(0);
}
await fexec.map(
  async (x) => {
    await new Promise((resolve) => setTimeout(resolve, 60_000));
    return x;
  },
  [1, 2, 3, 4],
);
while (backend.runningWorkers().length < 2) await new Promise((resolve) => setTimeout(resolve, 50));
if (mode === "own-handler") {
  process.on("SIGINT", () => {
    process.stdout.write("user handler\n");
    setTimeout(() => process.exit(7), 300);
  });
}
process.stdout.write(`${JSON.stringify({ pid: process.pid, workers: backend.runningWorkers(), workerLogDir: dirname(backend.workerLogPath) })}\n`);
if (mode === "throw")
  process.stdin.once("data", () => {
    throw new Error("uncaught, on purpose");
  });
setInterval(() => undefined, 60_000);
