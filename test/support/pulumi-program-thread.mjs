// The worker thread pulumi-harness.ts runs Pulumi programs in, loading them as the running
// tests load: their build (pulumi-program-run.js, the package's and index.ts's JavaScript in
// dist/) or their sources. A worker does not inherit the parent's loader hooks, so for sources it
// registers tsx itself; the build needs none (tsx's hooks cost the thread's start about 1.5 CPU-s).
import { parentPort, workerData } from "node:worker_threads";

/** pulumi-program-run's URL: its source (.ts) or its build (.js). */
const programRun = workerData.programRun;
if (programRun.endsWith(".ts")) (await import("tsx/esm/api")).register();
// Pulumi records and formats a stack trace for every promise it makes (runtime/debuggable.ts,
// with no switch to turn it off), and one per resource at any stack limit (Resource.callsites).
// Without frames for the former, a run costs about a fifth less CPU: errors from this thread carry
// their name and message only (programError() runs a failing scenario in the test's own thread,
// stack and all). Mapping the latter through tsx's source maps cost a tenth of a run.
Error.stackTraceLimit = 0;
process.setSourceMapsEnabled(false);
const { runProgramHere } = await import(programRun);

// One run at a time: Pulumi's mocks and config are global to the thread.
let previous = Promise.resolve();
parentPort.on("message", ({ id, scenario }) => {
  previous = previous.then(async () => {
    try {
      parentPort.postMessage({ id, run: await runProgramHere(scenario) });
    } catch (error) {
      parentPort.postMessage({ id, error: { name: error?.name ?? "Error", message: error?.message ?? String(error), stack: error?.stack } });
    }
  });
});
