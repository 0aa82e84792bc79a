/**
 * Cold start, in a fresh process: from `new FunctionExecutor()` to the first result, with
 * Azurite and the worker processes started on the way. Prints one JSON line.
 */
import { FunctionExecutor } from "../client/index.ts";
import { addSeven, benchOptions } from "./workloads.ts";

const processStart = performance.timeOrigin;
const started = performance.now();
const fexec = new FunctionExecutor(benchOptions({ config: {} }));
let backendReadyMs = 0;
void fexec.backend().then(() => {
  backendReadyMs = performance.now() - started;
});
await fexec.callAsync(addSeven, 3);
const result = await fexec.getResult();
const firstResultMs = performance.now() - started;
if (result !== 10) throw new Error(`cold start: expected 10, got ${String(result)}`);
const closing = performance.now();
await fexec.close();
console.log(
  JSON.stringify({
    firstResultMs,
    backendReadyMs,
    sinceProcessStartMs: Date.now() - processStart,
    closeMs: performance.now() - closing,
  }),
);
