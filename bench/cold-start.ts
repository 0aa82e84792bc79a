/**
 * Start time, in a fresh process: from `new FunctionExecutor()` to the first result, on a
 * temporary local data folder. argv[2]:
 * - "cold" (the default): nothing serves the folder, so Azurite starts on the way;
 * - "warm": another process already serves it (a second program while a first one runs),
 *   so the executor connects to that Azurite and starts only its workers.
 * Prints one JSON line. ("hold" is that other process: it opens the folder's storage, says
 * "ready" and keeps it until it is signalled.)
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { FunctionExecutor } from "../client/index.ts";
import { LOCAL_DATA_DIR_ENV } from "../client/config.ts";
import { openLocalStorage } from "../local/data-dir.ts";
import { addSeven, benchOptions } from "./workloads.ts";

const mode = process.argv[2] ?? "cold";

if (mode === "hold") {
  await openLocalStorage(process.env[LOCAL_DATA_DIR_ENV]!);
  process.stdout.write("ready\n");
  setInterval(() => undefined, 60_000);
} else {
  // Process start to here: node, tsx and the imports (the holder's start below is not counted).
  const importsMs = performance.now();
  const dataDir = mkdtempSync(join(tmpdir(), "lithops-bench-data-"));
  process.env[LOCAL_DATA_DIR_ENV] = dataDir;
  const holder =
    mode === "warm"
      ? spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url), "hold"], { stdio: ["ignore", "pipe", "inherit"] })
      : undefined;
  if (holder) await createInterface({ input: holder.stdout! })[Symbol.asyncIterator]().next();

  const started = performance.now();
  const fexec = new FunctionExecutor(benchOptions({ config: {} }));
  let backendReadyMs = 0;
  void fexec.backend().then(() => {
    backendReadyMs = performance.now() - started;
  });
  await fexec.callAsync(addSeven, 3);
  const result = await fexec.getResult();
  const firstResultMs = performance.now() - started;
  if (result !== 10) throw new Error(`${mode} start: expected 10, got ${String(result)}`);
  // The holder leaves first: close() is then the last user's in both modes, and waits for Azurite to stop.
  if (holder) {
    holder.kill("SIGTERM");
    await new Promise((resolve) => holder.once("exit", resolve));
  }
  const closing = performance.now();
  await fexec.close();
  const closeMs = performance.now() - closing;
  rmSync(dataDir, { recursive: true, force: true });
  console.log(JSON.stringify({ mode, firstResultMs, backendReadyMs, sinceProcessStartMs: importsMs + firstResultMs, closeMs }));
}
