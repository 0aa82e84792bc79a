/**
 * Cold start as a user of the built package meets it: plain `node` (no tsx) running the
 * package's JavaScript (`dist/`, what `npm install lithops-aca` installs), from
 * `new FunctionExecutor()` to the first result on a fresh local data folder (Azurite starts
 * on the way), then close().
 *
 *   node bench/cold-start-package.mjs [--root <package folder>] [--runs 5]
 *
 * Runs each sample in a fresh process and prints one JSON line: every sample, the median, and
 * the machine's load before and after (the figure is only comparable at a similar load).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const argAfter = (flag, fallback) => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const root = resolve(argAfter("--root", fileURLToPath(new URL("..", import.meta.url))));
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

if (process.argv.includes("--sample")) {
  const { FunctionExecutor } = await import(pathToFileURL(join(root, "dist/client/index.js")).href);
  const started = performance.now();
  const fexec = new FunctionExecutor({ backend: "local", maxWorkers: 2, workerProcesses: 1, progress: false, logLevel: "WARNING", config: {} });
  let backendReadyMs = 0;
  void fexec.backend().then(() => {
    backendReadyMs = performance.now() - started;
  });
  await fexec.callAsync((x) => x + 7, 3);
  const result = await fexec.getResult();
  const firstResultMs = performance.now() - started;
  if (result !== 10) throw new Error(`expected 10, got ${String(result)}`);
  const closing = performance.now();
  await fexec.close();
  process.stdout.write(`${JSON.stringify({ firstResultMs, backendReadyMs, closeMs: performance.now() - closing })}\n`);
} else {
  const runs = Number(argAfter("--runs", "5"));
  const loadBefore = load();
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const dataDir = mkdtempSync(join(tmpdir(), "lithops-bench-cold-"));
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--sample", "--root", root], {
      env: { ...process.env, LITHOPS_LOCAL_DATA_DIR: dataDir },
      encoding: "utf8",
      timeout: 120_000,
    });
    rmSync(dataDir, { recursive: true, force: true });
    if (child.status !== 0) throw new Error(`sample ${i} failed: ${child.stderr.slice(-2000)}`);
    samples.push(JSON.parse(child.stdout.trim().split("\n").pop()));
  }
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  process.stdout.write(
    `${JSON.stringify({
      root,
      nproc: cpus().length,
      runs,
      medianFirstResultMs: median(samples.map((s) => s.firstResultMs)),
      medianBackendReadyMs: median(samples.map((s) => s.backendReadyMs)),
      samples,
      loadBefore,
      loadAfter: load(),
    })}\n`,
  );
}
