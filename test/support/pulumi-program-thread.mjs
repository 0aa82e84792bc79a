// The worker thread pulumi-harness.ts runs Pulumi programs in, from the sources whether the
// tests run from theirs or from their build: a worker does not inherit the parent's loader
// hooks, so it registers tsx itself before loading TypeScript (the repository's Pulumi program,
// index.ts, finds its project folder next to itself, so it cannot run from dist/).
import { parentPort } from "node:worker_threads";
import { register } from "tsx/esm/api";

register();
// Pulumi records and formats a stack trace for every promise it makes (runtime/debuggable.ts,
// with no switch to turn it off), and one per resource at any stack limit (Resource.callsites).
// Without frames for the former, a run costs about a fifth less CPU: errors from this thread carry
// their name and message only (programError() runs a failing scenario in the test's own thread,
// stack and all). Mapping the latter through tsx's source maps cost a tenth of a run.
Error.stackTraceLimit = 0;
process.setSourceMapsEnabled(false);
const { runProgramHere } = await import("./pulumi-program-run.ts");

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
