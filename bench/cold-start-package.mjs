/**
 * Cold start as a user of the built package meets it: plain `node` (no tsx) running the
 * package's JavaScript (`dist/`, what `npm install lithops-aca` installs), from
 * `new FunctionExecutor()` to the first result with no Azurite running for the data folder
 * (it starts on the way), then close().
 *
 *   node bench/cold-start-package.mjs [--root <package folder>] [--runs 5] [--folder fresh|existing]
 *
 * --folder fresh (the default): a new data folder for every sample, as a user's first program.
 * --folder existing: one folder for all samples, used once before them, as a user's later
 * programs find it (made, Azurite stopped: each sample waits until the previous one's is gone).
 *
 * Runs each sample in a fresh process and prints one JSON line: every sample, the medians, and
 * the machine's load before and after (the figure is only comparable at a similar load). A
 * sample's CPU time (ms) is read at its first result: the client's since new FunctionExecutor(),
 * Azurite's and the workers' since they started. On a shared machine CPU time is the steadier
 * figure: wall time is CPU time plus waiting for a core.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
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
  const clientCpuAtStart = process.cpuUsage();
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
  const cpuMs = await cpuAtFirstResult(await fexec.backend(), clientCpuAtStart);
  const closing = performance.now();
  await fexec.close();
  process.stdout.write(`${JSON.stringify({ firstResultMs, backendReadyMs, closeMs: performance.now() - closing, cpuMs })}\n`);
} else {
  const runs = Number(argAfter("--runs", "5"));
  const folder = argAfter("--folder", "fresh");
  if (folder !== "fresh" && folder !== "existing") throw new Error(`--folder ${folder}: use fresh or existing`);
  const shared = folder === "existing" ? mkdtempSync(join(tmpdir(), "lithops-bench-cold-")) : undefined;
  const sample = (dataDir) => {
    const child = spawnSync(process.execPath, [fileURLToPath(import.meta.url), "--sample", "--root", root], {
      env: { ...process.env, LITHOPS_LOCAL_DATA_DIR: dataDir },
      encoding: "utf8",
      timeout: 120_000,
    });
    if (child.status !== 0) throw new Error(`sample failed: ${child.stderr.slice(-2000)}`);
    // The folder's Azurite stops once its last program has gone: the next sample must find it stopped.
    const deadline = Date.now() + 15_000;
    while (existsSync(join(dataDir, "azurite.json")) && Date.now() < deadline) spawnSync("sleep", ["0.05"]);
    return JSON.parse(child.stdout.trim().split("\n").pop());
  };
  if (shared) sample(shared);
  const loadBefore = load();
  const samples = [];
  for (let i = 0; i < runs; i += 1) {
    const dataDir = shared ?? mkdtempSync(join(tmpdir(), "lithops-bench-cold-"));
    samples.push(sample(dataDir));
    if (!shared) rmSync(dataDir, { recursive: true, force: true });
  }
  if (shared) rmSync(shared, { recursive: true, force: true });
  const median = (values) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)];
  process.stdout.write(
    `${JSON.stringify({
      root,
      nproc: cpus().length,
      runs,
      folder,
      medianFirstResultMs: median(samples.map((s) => s.firstResultMs)),
      medianBackendReadyMs: median(samples.map((s) => s.backendReadyMs)),
      medianCpuMs: Object.fromEntries(["client", "azurite", "workers"].map((part) => [part, median(samples.map((s) => s.cpuMs[part]))])),
      samples,
      loadBefore,
      loadAfter: load(),
    })}\n`,
  );
}

/** CPU ms at the first result: this client's since `since`, the folder's Azurite's and the workers' (Linux /proc; undefined elsewhere). */
async function cpuAtFirstResult(backend, since) {
  const { user, system } = process.cpuUsage(since);
  const ticksMs = (pid) => {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, at USER_HZ 100
    } catch {
      return undefined;
    }
  };
  const record = JSON.parse(readFileSync(join(process.env.LITHOPS_LOCAL_DATA_DIR, "azurite.json"), "utf8"));
  const workers = backend.runningWorkers().map(ticksMs);
  return {
    client: (user + system) / 1000,
    azurite: ticksMs(record.pid),
    workers: workers.includes(undefined) ? undefined : workers.reduce((sum, ms) => sum + ms, 0),
  };
}
