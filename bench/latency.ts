/**
 * What Azure's storage round trips cost: the standard workloads on the local backend with
 * LITHOPS_LOCAL_STORAGE_DELAY_MS at 0, 10 and 25 ms (a proxy holding every storage request of
 * client, scaler and workers that long), written to bench/results/<date>-latency.md (or --out).
 * `--label before|after` names the run; `--quick` is a CI-sized run; `--maps-only` runs only
 * the two maps and prints their figures and where the requests of the 1,000-call one go, by
 * kind, for the default batching (`--delays 10,25` picks the delays).
 *
 * Each delay runs in a fresh process. A process measures, on 2 workers of 1 call each:
 * - a warm call's latency (callAsync + getResult, back to back) and its storage requests;
 * - a 1,000-call no-op map: wall time and storage requests per call in 1, 2 and 4 batches per
 *   slot (`chunksize`; the default is 1 here, client/call-batches.ts): the batch count sets most
 *   of its requests;
 * - idle: what client, scaler and workers request per minute with nothing to do;
 * and, on 4 workers of 5 calls each, a 100-call map of 1 s calls, batched the same three ways
 * (the default is 4 there; the balance across slots shows).
 * Requests come from the proxy (client, scaler and workers together) and the SDK counters
 * (client; workers report theirs with their outputs); workers' idle requests are the proxy's
 * count minus client and scaler.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { LOCAL_DATA_DIR_ENV } from "../client/config.ts";
import { defaultCallsPerBatch } from "../client/call-batches.ts";
import { FunctionExecutor } from "../client/index.ts";
import type { LocalBackend } from "../local/local-backend.ts";
import { STORAGE_DELAY_ENV } from "../local/storage-delay-proxy.ts";
import { machineInfo, median, millis, runChild, seconds } from "./lib.ts";
import { addSeven, benchOptions, noop } from "./workloads.ts";

const quick = process.argv.includes("--quick");
const mapsOnly = process.argv.includes("--maps-only");
const argAfter = (flag: string): string | undefined => {
  const i = process.argv.indexOf(flag);
  return i > 0 ? process.argv[i + 1] : undefined;
};
const DELAYS = (argAfter("--delays") ?? "0,10,25").split(",").map(Number);
const SIZES = quick
  ? { latencySamples: 5, mapCalls: 1_000, sleepCalls: 40, idleSeconds: 10 }
  : { latencySamples: 15, mapCalls: 1_000, sleepCalls: 100, idleSeconds: 30 };
/** Slots of the two executors: 2 workers of 1 call, 4 workers of 5 calls. */
const NARROW_SLOTS = 2;
const WIDE_SLOTS = 20;
/** Batches per slot compared, as a `chunksize`; the default (client/call-batches.ts) is one of them. */
const BATCHINGS = [1, 2, 4] as const;

/** One map as run: its batching (batches per slot, and whether that is the default), wall time and every request the proxy saw for it. */
interface MapMeasure {
  perSlot: number;
  isDefault: boolean;
  ms: number;
  proxied: number;
  /** By kind: method, what, status (local/storage-delay-proxy.ts's requestKind). */
  kinds: Record<string, number>;
}

interface MapsResult {
  delayMs: number;
  /** The 1,000-call no-op map, on 2 slots, in each batching. */
  noopMaps: MapMeasure[];
  /** The 100-call map of 1 s calls, on 20 slots, in each batching. */
  sleepMaps: MapMeasure[];
}

interface DelayResult extends MapsResult {
  warmMs: number[];
  /** Per warm call: all requests the proxy saw, and the client's and workers' own counts. */
  warmProxied: number;
  warmClient: number;
  warmWorkers: number;
  idle: { seconds: number; client: number; scaler: number; workers: number; workerCount: number };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const log = (line: string): void => {
  process.stderr.write(`[latency] ${line}\n`);
};
const sleepFor = async (ms: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
};

/** Runs `fn` over `args` in `perSlot` batches per slot, and measures it. */
async function measureMap<T>(
  fexec: FunctionExecutor,
  backend: LocalBackend,
  fn: (x: T) => unknown,
  args: T[],
  slots: number,
  perSlot: number,
): Promise<MapMeasure> {
  const chunksize = Math.ceil(args.length / (slots * perSlot));
  const before = { proxied: backend.proxiedRequests() ?? NaN, kinds: backend.proxiedRequestKinds() };
  const started = performance.now();
  await fexec.map(fn, args, { chunksize });
  const values = (await fexec.getResult()) as unknown[];
  const ms = performance.now() - started;
  if (values.length !== args.length) throw new Error("map: wrong number of results");
  await sleep(300); // the last batches' message deletes land after their outputs are read
  const kinds = Object.fromEntries(
    [...backend.proxiedRequestKinds()].map(([kind, n]) => [kind, n - (before.kinds.get(kind) ?? 0)] as const).filter(([, n]) => n > 0),
  );
  return {
    perSlot,
    isDefault: chunksize === defaultCallsPerBatch(args.length, slots),
    ms,
    proxied: (backend.proxiedRequests() ?? NaN) - before.proxied,
    kinds,
  };
}

/** The 1,000-call no-op map in each batching, on the narrow executor (workers warm). */
async function noopMaps(fexec: FunctionExecutor, backend: LocalBackend, delayMs: number): Promise<MapMeasure[]> {
  const maps: MapMeasure[] = [];
  for (const perSlot of BATCHINGS) {
    const map = await measureMap(fexec, backend, noop, range(SIZES.mapCalls), NARROW_SLOTS, perSlot);
    log(`${delayMs} ms: ${SIZES.mapCalls}-call map, ${perSlot} per slot: ${seconds(map.ms)}, ${map.proxied} requests`);
    maps.push(map);
  }
  return maps;
}

/** The 100-call map of 1 s calls in each batching, on 4 workers of 5 calls each. */
async function sleepMaps(delayMs: number): Promise<MapMeasure[]> {
  const wide = new FunctionExecutor(benchOptions({ maxWorkers: 4, workerProcesses: 5 }));
  try {
    const backend = (await wide.backend()) as LocalBackend;
    await wide.map(
      sleepFor,
      range(WIDE_SLOTS).map(() => 1),
    );
    await wide.getResult();
    const maps: MapMeasure[] = [];
    for (const perSlot of BATCHINGS) {
      const map = await measureMap(
        wide,
        backend,
        sleepFor,
        range(SIZES.sleepCalls).map(() => 1000),
        WIDE_SLOTS,
        perSlot,
      );
      log(`${delayMs} ms: ${SIZES.sleepCalls} calls of 1 s, ${perSlot} per slot: ${seconds(map.ms)}`);
      maps.push(map);
    }
    return maps;
  } finally {
    await wide.close();
  }
}

/** `--maps-only`: the two maps alone. */
async function measureMaps(delayMs: number): Promise<MapsResult> {
  const fexec = new FunctionExecutor(benchOptions());
  let narrow: MapMeasure[];
  try {
    const backend = (await fexec.backend()) as LocalBackend;
    await fexec.map(noop, range(8));
    await fexec.getResult();
    narrow = await noopMaps(fexec, backend, delayMs);
  } finally {
    await fexec.close();
  }
  return { delayMs, noopMaps: narrow, sleepMaps: await sleepMaps(delayMs) };
}

async function measure(delayMs: number): Promise<DelayResult> {
  const fexec = new FunctionExecutor(benchOptions());
  let result: Omit<DelayResult, "sleepMaps">;
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
    const after = { proxied: proxied(), ...fexec.storageOperations() };
    const n = SIZES.latencySamples;
    log(`${delayMs} ms: warm call median ${millis(median(warmMs))}`);

    const maps = await noopMaps(fexec, backend, delayMs);

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
      warmProxied: (after.proxied - before.proxied) / n,
      warmClient: (after.client - before.client) / n,
      warmWorkers: (after.workers - before.workers) / n,
      noopMaps: maps,
      idle,
    };
  } finally {
    await fexec.close();
  }
  return { ...result, sleepMaps: await sleepMaps(delayMs) };
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
    ...mapRows(results),
    `| Idle, per minute (over ${SIZES.idleSeconds} s): client with no job | ${results.map((r) => perMinute(r.idle.client, r.idle.seconds)).join(" | ")} |`,
    `| Idle, per minute: local scaler (KEDA's stand-in) | ${results.map((r) => perMinute(r.idle.scaler, r.idle.seconds)).join(" | ")} |`,
    `| Idle, per minute: workers with an empty queue (all of them; how many) | ${results.map((r) => `${perMinute(r.idle.workers, r.idle.seconds)} (${r.idle.workerCount})`).join(" | ")} |`,
    "",
  ];
  return lines.join("\n");
}

const batching = (map: MapMeasure): string => `${map.perSlot} batch${map.perSlot === 1 ? "" : "es"} per slot${map.isDefault ? " (the default)" : ""}`;

/** The two maps' rows: wall time and requests per call in each batching. */
function mapRows(results: MapsResult[]): string[] {
  const rows = (title: string, calls: number, maps: (r: MapsResult) => MapMeasure[], digits: number): string[] =>
    BATCHINGS.map(
      (_, i) =>
        `| ${title}, ${batching(maps(results[0])[i])}: wall / storage requests per call (proxy) | ${results.map((r) => `${seconds(maps(r)[i].ms)} / ${(maps(r)[i].proxied / calls).toFixed(digits)}`).join(" | ")} |`,
    );
  return [
    ...rows(`${SIZES.mapCalls.toLocaleString("en-US")}-call no-op map on ${NARROW_SLOTS} slots`, SIZES.mapCalls, (r) => r.noopMaps, 3),
    ...rows(
      `${SIZES.sleepCalls}-call map of 1 s calls on ${WIDE_SLOTS} slots (ideal ${Math.ceil(SIZES.sleepCalls / WIDE_SLOTS)} s)`,
      SIZES.sleepCalls,
      (r) => r.sleepMaps,
      2,
    ),
  ];
}

/** Where each delay's default-batched no-op map requests went: one row per request kind, most frequent first. */
function mapKindsTable(results: MapsResult[]): string {
  const maps = results.map((r) => ({ delayMs: r.delayMs, ...(r.noopMaps.find((m) => m.isDefault) ?? r.noopMaps[0]) }));
  const kinds = [...new Set(maps.flatMap((m) => Object.keys(m.kinds)))];
  const total = (kind: string): number => maps.reduce((sum, m) => sum + (m.kinds[kind] ?? 0), 0);
  kinds.sort((a, b) => total(b) - total(a) || a.localeCompare(b));
  return [
    `| ${SIZES.mapCalls.toLocaleString("en-US")}-call map, default batching: requests by kind (proxy; method, what, status) | ${maps.map((m) => `${m.delayMs} ms`).join(" | ")} |`,
    `|---|${maps.map(() => "---|").join("")}`,
    ...kinds.map((kind) => `| \`${kind}\` | ${maps.map((m) => m.kinds[kind] ?? 0).join(" | ")} |`),
    `| all | ${maps.map((m) => m.proxied).join(" | ")} |`,
    "",
  ].join("\n");
}

const childDelay = argAfter("--child");
if (childDelay !== undefined) {
  const measured = mapsOnly ? await measureMaps(Number(childDelay)) : await measure(Number(childDelay));
  process.stdout.write(`${JSON.stringify(measured)}\n`);
} else {
  const label = argAfter("--label") ?? "run";
  // A data folder of its own (inherited by the children): nobody else's Azurite or queues.
  const dataDir = mkdtempSync(join(tmpdir(), "lithops-bench-latency-"));
  process.env[LOCAL_DATA_DIR_ENV] = dataDir;
  const info = machineInfo();
  const started = performance.now();
  const results: DelayResult[] = [];
  const childArgs = [...(quick ? ["--quick"] : []), ...(mapsOnly ? ["--maps-only"] : [])];
  for (const delay of DELAYS) {
    process.env[STORAGE_DELAY_ENV] = String(delay);
    results.push(await runChild<DelayResult>("./latency.ts", ["--child", String(delay), ...childArgs]));
  }
  rmSync(dataDir, { recursive: true, force: true });
  const loadAfter = machineInfo().loadAverage;
  if (mapsOnly) {
    process.stdout.write(
      `load average ${info.loadAverage} before, ${loadAfter} after\n\n| Map | ${results.map((r) => `${r.delayMs} ms`).join(" | ")} |\n|---|${results.map(() => "---|").join("")}\n${mapRows(results).join("\n")}\n\n${mapKindsTable(results)}`,
    );
  } else {
    const markdown = `${report(label, info, loadAfter, results, performance.now() - started)}\n${mapKindsTable(results)}`;
    const path = argAfter("--out") ?? fileURLToPath(new URL(`./${quick ? "out" : "results"}/${info.date.slice(0, 10)}-latency-${label}.md`, import.meta.url));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, markdown);
    process.stdout.write(`${markdown}\nwritten to ${path}\n`);
  }
}
