/**
 * What Azure's storage round trips cost: the standard workloads on the local backend with
 * LITHOPS_LOCAL_STORAGE_DELAY_MS at 0, 10 and 25 ms (a proxy holding every storage request of
 * client, scaler and workers that long), written to bench/results/<date>-latency.md (or --out).
 * `--label before|after` names the run; `--quick` is a CI-sized run.
 *
 * Each delay runs in a fresh process. A process measures, on 2 workers of 1 call each:
 * - a warm call's latency (callAsync + getResult, back to back) and its storage requests;
 * - a 1,000-call no-op map: wall time and storage requests per call (as batched by default, 4
 *   batches per slot, and in 2 per slot: the batch count sets most of its requests);
 * - idle: what client, scaler and workers request per minute with nothing to do;
 * and, on 4 workers of 5 calls each, a 100-call map of 1 s calls.
 * Requests come from the proxy (client, scaler and workers together) and the SDK counters
 * (client; workers report theirs with their outputs); workers' idle requests are the proxy's
 * count minus client and scaler.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_DATA_DIR_ENV } from "../client/config.ts";
import { FunctionExecutor } from "../client/index.ts";
import type { LocalBackend } from "../local/local-backend.ts";
import { STORAGE_DELAY_ENV } from "../local/storage-delay-proxy.ts";
import { machineInfo, median, millis, runChild, seconds } from "./lib.ts";
import { addSeven, benchOptions, noop } from "./workloads.ts";

const quick = process.argv.includes("--quick");
const argAfter = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const DELAYS = [0, 10, 25];
const SIZES = quick
  ? { latencySamples: 5, mapCalls: 1_000, sleepCalls: 40, idleSeconds: 10 }
  : { latencySamples: 15, mapCalls: 1_000, sleepCalls: 100, idleSeconds: 30 };

interface DelayResult {
  delayMs: number;
  warmMs: number[];
  /** Per warm call: all requests the proxy saw, and the client's and workers' own counts. */
  warmProxied: number;
  warmClient: number;
  warmWorkers: number;
  mapMs: number;
  mapProxied: number;
  /** The same map in 2 batches per slot (chunksize), to show what the batch count costs in requests. */
  chunkedMapMs: number;
  chunkedMapProxied: number;
  sleepMapMs: number;
  sleepMapProxied: number;
  idle: { seconds: number; client: number; scaler: number; workers: number; workerCount: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const log = (line: string): void => {
  process.stderr.write(`[latency] ${line}\n`);
};

async function measure(delayMs: number): Promise<DelayResult> {
  const fexec = new FunctionExecutor(benchOptions());
  let result: Omit<DelayResult, "sleepMapMs" | "sleepMapProxied">;
  try {
    const backend = (await fexec.backend()) as LocalBackend;
    const proxied = (): number => backend.proxiedRequests() ?? NaN;
    await fexec.map(noop, range(8));
    await fexec.getResult();

    const warmMs: number[] = [];
    const before = { proxied: proxied(), ...fexec.storageOperations() };
    for (let i = 0; i < SIZES.latencySamples; i += 1) {
      const started = performance.now();
      await fexec.callAsync(addSeven, 3);
      const value = await fexec.getResult();
      warmMs.push(performance.now() - started);
      if (value !== 10) throw new Error(`warm call: expected 10, got ${String(value)}`);
    }
    const after = fexec.storageOperations();
    const n = SIZES.latencySamples;
    log(`${delayMs} ms: warm call median ${millis(median(warmMs))}`);

    const mapBefore = proxied();
    const mapStarted = performance.now();
    await fexec.map(noop, range(SIZES.mapCalls));
    const values = (await fexec.getResult()) as number[];
    const mapMs = performance.now() - mapStarted;
    if (values.length !== SIZES.mapCalls) throw new Error("map: wrong number of results");
    await sleep(300); // the last batches' message deletes land after their outputs are read
    const mapProxied = proxied() - mapBefore;
    log(`${delayMs} ms: ${SIZES.mapCalls}-call map ${seconds(mapMs)}`);

    const chunkedBefore = proxied();
    const chunkedStarted = performance.now();
    await fexec.map(noop, range(SIZES.mapCalls), { chunksize: SIZES.mapCalls / (2 * 2) });
    await fexec.getResult();
    const chunkedMapMs = performance.now() - chunkedStarted;
    await sleep(300);
    const chunkedMapProxied = proxied() - chunkedBefore;

    // Idle: workers up (the bench cooldown is 120 s), nothing queued, nobody waiting.
    await sleep(5000);
    const idleBefore = { proxied: proxied(), client: fexec.storageOperations().client, scaler: backend.storageRequests() };
    await sleep(SIZES.idleSeconds * 1000);
    const client = fexec.storageOperations().client - idleBefore.client;
    const scaler = backend.storageRequests() - idleBefore.scaler;
    const idle = {
      seconds: SIZES.idleSeconds,
      client,
      scaler,
      workers: proxied() - idleBefore.proxied - client - scaler,
      workerCount: backend.runningWorkers().length,
    };
    result = {
      delayMs,
      warmMs,
      warmProxied: (mapBefore - before.proxied) / n,
      warmClient: (after.client - before.client) / n,
      warmWorkers: (after.workers - before.workers) / n,
      mapMs,
      mapProxied,
      chunkedMapMs,
      chunkedMapProxied,
      idle,
    };
  } finally {
    await fexec.close();
  }

  // Long calls on more slots: 4 workers of 5 calls each.
  const wide = new FunctionExecutor(benchOptions({ maxWorkers: 4, workerProcesses: 5 }));
  try {
    const backend = (await wide.backend()) as LocalBackend;
    const sleepFor = async (ms: number): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    };
    await wide.map(
      sleepFor,
      range(20).map(() => 1),
    );
    await wide.getResult();
    const before = backend.proxiedRequests() ?? NaN;
    const started = performance.now();
    await wide.map(
      sleepFor,
      range(SIZES.sleepCalls).map(() => 1000),
    );
    await wide.getResult();
    const sleepMapMs = performance.now() - started;
    log(`${delayMs} ms: ${SIZES.sleepCalls} calls of 1 s ${seconds(sleepMapMs)}`);
    return { ...result, sleepMapMs, sleepMapProxied: (backend.proxiedRequests() ?? NaN) - before };
  } finally {
    await wide.close();
  }
}

function report(label: string, info: ReturnType<typeof machineInfo>, loadAfter: string, results: DelayResult[], totalMs: number): string {
  const zero = results.find((r) => r.delayMs === 0);
  const perMinute = (n: number, s: number): string => ((n * 60) / s).toFixed(0);
  const lines = [
    `# Storage latency benchmark (${label}): ${info.date.slice(0, 10)} on ${info.host}${quick ? " (quick run)" : ""}`,
    "",
    `- Date: ${info.date}; whole run ${seconds(totalMs)}`,
    `- Machine: ${info.cpuModel}, nproc ${info.cores}; memory ${info.memoryGb} GB; load average at start ${info.loadAverage}, at end ${loadAfter} (shared machine: compare ratios within one run)`,
    `- Node.js ${info.node}; command \`node --import tsx bench/latency.ts${quick ? " --quick" : ""}\``,
    `- Local backend with \`${STORAGE_DELAY_ENV}\` = 0, 10, 25 (each in a fresh process): 2 workers of 1 call each (4 of 5 for the 1 s calls), cooldown 120 s.`,
    "- Requests: `proxy` is every request of client, scaler and workers (the proxy's count); client and workers as their SDK counters report them.",
    "- Round trips on the critical path (estimated): (warm latency at d - warm latency at 0) / d.",
    "",
    `| Measure | ${results.map((r) => `${r.delayMs} ms`).join(" | ")} |`,
    `|---|${results.map(() => "---|").join("")}`,
    `| Warm call: callAsync + getResult, median of ${SIZES.latencySamples} | ${results.map((r) => millis(median(r.warmMs))).join(" | ")} |`,
    `| Warm call: min / max | ${results.map((r) => `${millis(Math.min(...r.warmMs))} / ${millis(Math.max(...r.warmMs))}`).join(" | ")} |`,
    `| Warm call: round trips on the critical path (estimated) | ${results.map((r) => (r.delayMs === 0 || !zero ? "-" : ((median(r.warmMs) - median(zero.warmMs)) / r.delayMs).toFixed(1))).join(" | ")} |`,
    `| Warm call: storage requests per call, in all (proxy) | ${results.map((r) => r.warmProxied.toFixed(1)).join(" | ")} |`,
    `| Warm call: of which client / workers (counters) | ${results.map((r) => `${r.warmClient.toFixed(1)} / ${r.warmWorkers.toFixed(1)}`).join(" | ")} |`,
    `| ${SIZES.mapCalls.toLocaleString("en-US")}-call no-op map: wall | ${results.map((r) => seconds(r.mapMs)).join(" | ")} |`,
    `| ${SIZES.mapCalls.toLocaleString("en-US")}-call no-op map: storage requests per call (proxy) | ${results.map((r) => (r.mapProxied / SIZES.mapCalls).toFixed(3)).join(" | ")} |`,
    `| Same map in 4 batches (chunksize ${SIZES.mapCalls / 4}, 2 per slot): wall / storage requests per call (proxy) | ${results.map((r) => `${seconds(r.chunkedMapMs)} / ${(r.chunkedMapProxied / SIZES.mapCalls).toFixed(3)}`).join(" | ")} |`,
    `| ${SIZES.sleepCalls}-call map of 1 s calls on 20 slots: wall (ideal ${Math.ceil(SIZES.sleepCalls / 20)} s) | ${results.map((r) => seconds(r.sleepMapMs)).join(" | ")} |`,
    `| ${SIZES.sleepCalls}-call map of 1 s calls: storage requests per call (proxy) | ${results.map((r) => (r.sleepMapProxied / SIZES.sleepCalls).toFixed(2)).join(" | ")} |`,
    `| Idle, per minute (over ${SIZES.idleSeconds} s): client with no job | ${results.map((r) => perMinute(r.idle.client, r.idle.seconds)).join(" | ")} |`,
    `| Idle, per minute: local scaler (KEDA's stand-in) | ${results.map((r) => perMinute(r.idle.scaler, r.idle.seconds)).join(" | ")} |`,
    `| Idle, per minute: workers with an empty queue (all of them; how many) | ${results.map((r) => `${perMinute(r.idle.workers, r.idle.seconds)} (${r.idle.workerCount})`).join(" | ")} |`,
    "",
  ];
  return lines.join("\n");
}

const childDelay = argAfter("--child");
if (childDelay !== undefined) {
  process.stdout.write(`${JSON.stringify(await measure(Number(childDelay)))}\n`);
} else {
  const label = argAfter("--label") ?? "run";
  // A data folder of its own (inherited by the children): nobody else's Azurite or queues.
  const dataDir = mkdtempSync(join(tmpdir(), "lithops-bench-latency-"));
  process.env[LOCAL_DATA_DIR_ENV] = dataDir;
  const info = machineInfo();
  const started = performance.now();
  const results: DelayResult[] = [];
  for (const delay of DELAYS) {
    process.env[STORAGE_DELAY_ENV] = String(delay);
    results.push(await runChild<DelayResult>("./latency.ts", ["--child", String(delay), ...(quick ? ["--quick"] : [])]));
  }
  rmSync(dataDir, { recursive: true, force: true });
  const markdown = report(label, info, machineInfo().loadAverage, results, performance.now() - started);
  const path = argAfter("--out") ?? fileURLToPath(new URL(`./${quick ? "out" : "results"}/${info.date.slice(0, 10)}-latency-${label}.md`, import.meta.url));
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, markdown);
  process.stdout.write(`${markdown}\nwritten to ${path}\n`);
}
