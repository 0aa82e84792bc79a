/**
 * `npm run bench` (or `npm run bench -- --quick` for a CI-sized run): every benchmark of
 * issue 7 side by side in one run on the local backend, written to
 * bench/results/<date>-<host>.md (quick runs: bench/out/, not committed).
 *
 * Absolute figures on a shared 2-core machine are noisy: compare ratios within one run.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { FunctionExecutor, type CallOptions } from "../client/index.ts";
import type { LocalBackend } from "../local/local-backend.ts";
import { startAzurite } from "../local/azurite.ts";
import { connectStorage } from "../azure/storage-connection.ts";
import { delayStorageEndpoints } from "../local/storage-delay-proxy.ts";
import { InProcessPool, machineInfo, mb, median, millis, percentile, runChild, seconds } from "./lib.ts";
import { addSeven, benchOptions, calibrateSpin, countWords, flipBytes, makeText, mergeCounts, noop, spin } from "./workloads.ts";

const quick = process.argv.includes("--quick");
const outArg = process.argv.indexOf("--out");

const SIZES = quick
  ? {
      coldSamples: 1,
      latencySamples: 20,
      idleLatencySamples: 3,
      throughput: [1_000, 10_000],
      cpuCalls: 64,
      cpuRounds: 2,
      scale: 10_000,
      dataCalls: 16,
      textMb: 40,
      idleSeconds: 10,
      waitSeconds: 5,
      progressCalls: { tiny: 2_000, fiveMs: 400 },
    }
  : {
      coldSamples: 3,
      latencySamples: 20,
      idleLatencySamples: 5,
      throughput: [1_000, 10_000],
      cpuCalls: 64,
      cpuRounds: 3,
      scale: 100_000,
      dataCalls: 64,
      textMb: 200,
      idleSeconds: 30,
      waitSeconds: 15,
      progressCalls: { tiny: 10_000, fiveMs: 2_000 },
    };

const TARGETS = {
  warmLatencyMs: 40,
  thousandCallsMs: 2000,
  opsPerCall: 0.1,
  cpuRatio: 1.3,
  scalePeakRssBytes: 400 * 1024 * 1024,
};

interface Row {
  benchmark: string;
  measure: string;
  value: string;
  target?: string;
  met?: boolean;
}

const rows: Row[] = [];
const notes: string[] = [];
const log = (line: string): void => {
  process.stderr.write(`[bench] ${line}\n`);
};
const row = (r: Row): void => {
  rows.push(r);
  log(`${r.benchmark} | ${r.measure}: ${r.value}${r.target ? ` (target ${r.target}: ${r.met ? "met" : "MISSED"})` : ""}`);
};
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const opsOf = (fexec: FunctionExecutor): number => {
  const ops = fexec.storageOperations();
  return ops.client + ops.workers;
};

/** Both workers up and idle, with `fn` already loaded in their call threads. */
async function warmUp<A>(fexec: FunctionExecutor, fn: (x: A) => unknown, arg: A): Promise<void> {
  await fexec.map(
    fn,
    range(8).map(() => arg),
  );
  await fexec.getResult();
}

async function coldStart(): Promise<void> {
  const samples: { firstResultMs: number; backendReadyMs: number; sinceProcessStartMs: number; closeMs: number }[] = [];
  for (let i = 0; i < SIZES.coldSamples; i += 1) samples.push(await runChild("./cold-start.ts"));
  row({
    benchmark: "Cold start",
    measure: `new FunctionExecutor() to first result (median of ${samples.length}, fresh process)`,
    value: seconds(median(samples.map((s) => s.firstResultMs))),
  });
  row({ benchmark: "Cold start", measure: "of which Azurite up and container created", value: seconds(median(samples.map((s) => s.backendReadyMs))) });
  row({
    benchmark: "Cold start",
    measure: "process start to first result (imports included)",
    value: seconds(median(samples.map((s) => s.sinceProcessStartMs))),
  });
  row({ benchmark: "Cold start", measure: "close() (workers and Azurite stopped)", value: seconds(median(samples.map((s) => s.closeMs))) });
}

async function warmLatency(fexec: FunctionExecutor): Promise<void> {
  await warmUp(fexec, addSeven, 1);
  const samples: number[] = [];
  const opsBefore = opsOf(fexec);
  for (let i = 0; i < SIZES.latencySamples; i += 1) {
    const started = performance.now();
    await fexec.callAsync(addSeven, 3);
    const value = await fexec.getResult();
    samples.push(performance.now() - started);
    if (value !== 10) throw new Error(`warm latency: expected 10, got ${String(value)}`);
  }
  const med = median(samples);
  row({
    benchmark: "Warm latency",
    measure: `callAsync(x => x + 7) + getResult, back to back, median of ${samples.length}`,
    value: millis(med),
    target: `<= ${TARGETS.warmLatencyMs} ms`,
    met: med <= TARGETS.warmLatencyMs,
  });
  row({ benchmark: "Warm latency", measure: "p95", value: millis(percentile(samples, 95)) });
  row({ benchmark: "Warm latency", measure: "storage requests per call (client + worker)", value: ((opsOf(fexec) - opsBefore) / samples.length).toFixed(1) });
  const idle: number[] = [];
  for (let i = 0; i < SIZES.idleLatencySamples; i += 1) {
    await sleep(2000);
    const started = performance.now();
    await fexec.callAsync(addSeven, 3);
    await fexec.getResult();
    idle.push(performance.now() - started);
  }
  row({ benchmark: "Warm latency", measure: `after 2 s idle (workers up, polling backed off), median of ${idle.length}`, value: millis(median(idle)) });
}

async function throughput(fexec: FunctionExecutor): Promise<void> {
  for (const calls of SIZES.throughput) {
    await warmUp(fexec, noop, 1);
    const opsBefore = fexec.storageOperations();
    const started = performance.now();
    await fexec.map(noop, range(calls));
    const values = (await fexec.getResult()) as number[];
    const wallMs = performance.now() - started;
    if (values.length !== calls || values.some((v, i) => v !== i)) throw new Error(`throughput: wrong results for ${calls} calls`);
    const ops = fexec.storageOperations();
    const client = ops.client - opsBefore.client;
    const workers = ops.workers - opsBefore.workers;
    const perCall = (client + workers) / calls;
    const name = `Throughput ${calls.toLocaleString("en-US")} no-op calls`;
    row({
      benchmark: name,
      measure: "wall (warm executor)",
      value: seconds(wallMs),
      ...(calls === 1_000 ? { target: `<= ${TARGETS.thousandCallsMs / 1000} s`, met: wallMs <= TARGETS.thousandCallsMs } : {}),
    });
    row({ benchmark: name, measure: "calls/s", value: (calls / (wallMs / 1000)).toFixed(0) });
    row({
      benchmark: name,
      measure: `storage requests per call (client ${client} + workers ${workers})`,
      value: perCall.toFixed(3),
      target: `<= ${TARGETS.opsPerCall}`,
      met: perCall <= TARGETS.opsPerCall,
    });
  }
}

async function cpuBound(fexec: FunctionExecutor): Promise<void> {
  const iterations = calibrateSpin(50);
  const calls = range(SIZES.cpuCalls).map(() => iterations);
  const sequential = performance.now();
  spin(iterations);
  const oneCallMs = performance.now() - sequential;
  const pool = new InProcessPool(spin, 2);
  await pool.ready(1000);
  await warmUp(fexec, spin, 1000);
  const poolTimes: number[] = [];
  const executorTimes: number[] = [];
  try {
    for (let round = 0; round < SIZES.cpuRounds; round += 1) {
      let started = performance.now();
      const expected = await pool.map(calls);
      poolTimes.push(performance.now() - started);
      started = performance.now();
      await fexec.map(spin, calls);
      const values = (await fexec.getResult()) as number[];
      executorTimes.push(performance.now() - started);
      if (values.some((v, i) => v !== expected[i])) throw new Error("cpu-bound: results differ from the in-process pool");
    }
  } finally {
    await pool.close();
  }
  const poolMs = Math.min(...poolTimes);
  const executorMs = Math.min(...executorTimes);
  const ratio = executorMs / poolMs;
  const name = `CPU-bound ${calls.length} calls of ~50 ms`;
  row({ benchmark: name, measure: `one call on the main thread (${iterations.toLocaleString("en-US")} iterations)`, value: millis(oneCallMs) });
  row({ benchmark: name, measure: `in-process pool of 2 worker threads (the limit; best of ${poolTimes.length})`, value: seconds(poolMs) });
  row({ benchmark: name, measure: `executor, 2 workers (best of ${executorTimes.length})`, value: seconds(executorMs) });
  row({ benchmark: name, measure: "executor / pool", value: `${ratio.toFixed(2)}x`, target: `<= ${TARGETS.cpuRatio}x`, met: ratio <= TARGETS.cpuRatio });
}

async function scale(): Promise<void> {
  const result = await runChild<{ calls: number; wallMs: number; rssBefore: number; peakRss: number; peakHeap: number; clientOps: number; workerOps: number }>(
    "./scale.ts",
    [String(SIZES.scale)],
  );
  const name = `Scale ${result.calls.toLocaleString("en-US")} no-op calls`;
  row({ benchmark: name, measure: "wall (warm executor, fresh client process)", value: seconds(result.wallMs) });
  row({ benchmark: name, measure: "calls/s", value: (result.calls / (result.wallMs / 1000)).toFixed(0) });
  const full = result.calls >= 100_000;
  row({
    benchmark: name,
    measure: `client peak RSS (before the map: ${mb(result.rssBefore)})`,
    value: mb(result.peakRss),
    ...(full ? { target: "< 400 MB", met: result.peakRss < TARGETS.scalePeakRssBytes } : {}),
  });
  row({ benchmark: name, measure: "client peak heap used (sampled every 20 ms)", value: mb(result.peakHeap) });
  row({ benchmark: name, measure: "storage requests per call", value: ((result.clientOps + result.workerOps) / result.calls).toFixed(4) });
}

async function dataTransfer(fexec: FunctionExecutor): Promise<void> {
  await warmUp(fexec, flipBytes, new Uint8Array(8));
  const inputs = range(SIZES.dataCalls).map(() => randomBytes(1024 * 1024));
  const opsBefore = opsOf(fexec);
  const started = performance.now();
  await fexec.map(flipBytes, inputs);
  const outputs = (await fexec.getResult()) as Uint8Array[];
  const wallMs = performance.now() - started;
  outputs.forEach((out, i) => {
    if (out.length !== inputs[i].length || out[0] !== (inputs[i][0] ^ 0xff) || out[out.length - 1] !== (inputs[i][out.length - 1] ^ 0xff)) {
      throw new Error(`data: wrong result for call ${i}`);
    }
  });
  const name = `Data ${inputs.length} calls, 1 MB in and 1 MB out each`;
  row({ benchmark: name, measure: "wall", value: seconds(wallMs) });
  row({ benchmark: name, measure: "MB/s (arguments in; as much again comes back)", value: (inputs.length / (wallMs / 1000)).toFixed(1) });
  row({ benchmark: name, measure: "storage requests", value: String(opsOf(fexec) - opsBefore) });
}

async function wordCount(fexec: FunctionExecutor): Promise<void> {
  const backend = await fexec.backend();
  const storage = connectStorage(backend.storage);
  const container = backend.storage.container;
  const chunkBytes = 8 * 1024 * 1024;
  const parts = Math.round(SIZES.textMb / 8);
  const { text, words } = makeText(chunkBytes);
  const prefix = "bench/wordcount/";
  const keys = range(parts).map((i) => `${prefix}part-${String(i).padStart(3, "0")}.txt`);
  for (let i = 0; i < keys.length; i += 4) {
    await Promise.all(keys.slice(i, i + 4).map((key) => storage.container.getBlockBlobClient(key).uploadData(text)));
  }
  const totalMb = (text.length * parts) / 1024 / 1024;
  const name = `Word count over ${totalMb.toFixed(0)} MB of text in storage`;
  const check = (counts: Map<string, number>): void => {
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    if (total !== words * parts) throw new Error(`word count: counted ${total} words, expected ${words * parts}`);
  };

  // Object processing (issue 4) if this checkout has it: a map over an az:// prefix.
  await storage.container.getBlockBlobClient("bench/wordcount-probe/one.txt").uploadData(Buffer.from("a b\n"));
  let objectProcessing = false;
  try {
    await fexec.map(async (obj: { data?: unknown }) => typeof obj?.data === "function", `az://${container}/bench/wordcount-probe/`);
    const probe = (await fexec.getResult()) as unknown[];
    objectProcessing = probe.length === 1 && probe[0] === true;
  } catch {
    objectProcessing = false;
  }

  await warmUp(fexec, noop, 1);
  if (objectProcessing) {
    const options = { objChunkSize: chunkBytes } as Record<string, unknown> as CallOptions;
    const started = performance.now();
    await fexec.map(
      async (obj: { data(): Promise<Buffer | string> }) => {
        const data = await obj.data();
        return countWords(typeof data === "string" ? data : data.toString("latin1"));
      },
      `az://${container}/${prefix}`,
      options,
    );
    const counts = mergeCounts((await fexec.getResult()) as Map<string, number>[]);
    const wallMs = performance.now() - started;
    check(counts);
    row({
      benchmark: name,
      measure: "object processing: map over az:// prefix, objChunkSize 8 MB, + merge on client",
      value: `${(totalMb / (wallMs / 1000)).toFixed(1)} MB/s (${seconds(wallMs)})`,
    });
  } else {
    notes.push(
      "Word count: object processing (map over an `az://` prefix) is not in this checkout yet, so each call reads its whole 8 MB object with the storage SDK itself; this measures the same reads and counting, without the framework's chunking.",
    );
    const started = performance.now();
    await fexec.map(async (key: string) => {
      const { BlobServiceClient } = await import("@azure/storage-blob");
      const service = BlobServiceClient.fromConnectionString(process.env.LITHOPS_STORAGE_CONNECTION_STRING ?? "");
      const bytes = await service
        .getContainerClient(process.env.LITHOPS_STORAGE_CONTAINER ?? "")
        .getBlockBlobClient(key)
        .downloadToBuffer();
      return countWords(bytes.toString("latin1"));
    }, keys);
    const counts = mergeCounts((await fexec.getResult()) as Map<string, number>[]);
    const wallMs = performance.now() - started;
    check(counts);
    row({
      benchmark: name,
      measure: `map of ${parts} calls, each reads 8 MB with the SDK and counts (object processing not available)`,
      value: `${(totalMb / (wallMs / 1000)).toFixed(1)} MB/s (${seconds(wallMs)})`,
    });
  }

  // Raw read throughput from the client: the ceiling for any object processing here.
  const started = performance.now();
  let read = 0;
  for (let i = 0; i < keys.length; i += 4) {
    const buffers = await Promise.all(keys.slice(i, i + 4).map((key) => storage.container.getBlockBlobClient(key).downloadToBuffer()));
    read += buffers.reduce((a, b) => a + b.length, 0);
  }
  const readMs = performance.now() - started;
  row({
    benchmark: name,
    measure: "raw Storage read from the client, 4 objects at a time (the ceiling)",
    value: `${(read / 1024 / 1024 / (readMs / 1000)).toFixed(1)} MB/s`,
  });
  const countStarted = performance.now();
  check(new Map([...countWords(text.toString("latin1"))].map(([w, n]) => [w, n * parts])));
  const countMs = (performance.now() - countStarted) * parts; // one part counted, times the number of parts
  row({ benchmark: name, measure: "counting alone, one thread (no storage)", value: `${(totalMb / (countMs / 1000)).toFixed(1)} MB/s` });
  await Promise.all([...keys, "bench/wordcount-probe/one.txt"].map((key) => storage.container.deleteBlob(key).catch(() => undefined)));
}

/** An Azurite whose blob and queue requests go through counting proxies (`connectionString` points at them). */
async function proxiedAzurite(onRequest?: (method: string, url: string) => void) {
  const azurite = await startAzurite();
  const { connectionString, proxies } = await delayStorageEndpoints(azurite.connectionString, { onRequest });
  return {
    azurite,
    connectionString,
    /** Requests the proxies forwarded so far. */
    count: (): number => proxies.reduce((sum, p) => sum + p.count, 0),
    close: async (): Promise<void> => {
      await Promise.all(proxies.map((p) => p.close()));
      await azurite.stop();
    },
  };
}

/**
 * What per-call progress costs (batch progress blobs: workers write one at most once a second
 * while a batch runs longer than that, the client reads each change): the requests on
 * progress keys, counted by a proxy, per call, for tiny calls and for 5 ms calls (whose
 * batches run long enough to write progress).
 */
async function progressCost(): Promise<void> {
  let progressRequests = 0;
  const proxied = await proxiedAzurite((_method, url) => {
    if (url.includes("/progress/")) progressRequests += 1;
  });
  const fexec = new FunctionExecutor(benchOptions({ config: { local: { connection_string: proxied.connectionString } } }));
  try {
    const fiveMs = calibrateSpin(5);
    for (const [label, fn, arg, calls] of [
      ["tiny calls (x => x)", noop, 1, SIZES.progressCalls.tiny],
      ["5 ms calls", spin, fiveMs, SIZES.progressCalls.fiveMs],
    ] as const) {
      await warmUp(fexec, fn, arg);
      const before = progressRequests;
      await fexec.map(
        fn,
        range(calls).map(() => arg),
      );
      await fexec.getResult();
      const perCall = (progressRequests - before) / calls;
      row({
        benchmark: "Progress per call",
        measure: `${calls.toLocaleString("en")} ${label}: requests on progress blobs per call (${progressRequests - before} in all)`,
        value: perCall.toFixed(4),
        target: `<= ${TARGETS.opsPerCall}`,
        met: perCall <= TARGETS.opsPerCall,
      });
    }
  } finally {
    await fexec.close();
    await proxied.close();
  }
}

/**
 * What idle costs in storage requests, counted by a proxy in front of Azurite (client,
 * scaler and workers together), and a check that the executor's own counters agree.
 */
async function idleCost(): Promise<void> {
  const proxied = await proxiedAzurite();
  const total = proxied.count;
  const fexec = new FunctionExecutor(benchOptions({ config: { local: { cooldown: 600, connection_string: proxied.connectionString } } }));
  try {
    // Everything since the executor started (Azurite had served nothing through the proxy before).
    await warmUp(fexec, noop, 1);
    await fexec.map(noop, range(1000));
    await fexec.getResult();
    await sleep(200); // the last batches' message deletes land after their outputs are read
    const backend = (await fexec.backend()) as LocalBackend;
    const scalerOps = (): number => backend.storageRequests();
    const proxied = total();
    const reported = opsOf(fexec) + scalerOps();
    row({
      benchmark: "Request counting check",
      measure:
        "warm-up + 1,000-call map on a new executor: requests seen by a proxy in front of Azurite / reported by client, workers and scaler (the difference: worker polls since their last batch output, reported with their next one)",
      value: `${proxied} / ${reported}`,
    });

    // Idle: workers up, nothing queued, nobody waiting.
    await sleep(3000);
    const proxyBefore = total();
    const reportedBefore = fexec.storageOperations().client;
    const scalerBefore = scalerOps();
    await sleep(SIZES.idleSeconds * 1000);
    const perMinute = (n: number): string => (n / (SIZES.idleSeconds / 60)).toFixed(0);
    const idleAll = total() - proxyBefore;
    const idleScaler = scalerOps() - scalerBefore;
    const idleClient = fexec.storageOperations().client - reportedBefore;
    const workers = (await fexec.peakWorkers()) ?? 0;
    row({
      benchmark: "Idle polling cost",
      measure: `${workers} idle workers, per minute (measured over ${SIZES.idleSeconds} s)`,
      value: `${perMinute(idleAll - idleScaler - idleClient)} requests`,
    });
    row({
      benchmark: "Idle polling cost",
      measure: "local scaler (the KEDA stand-in) with workers up, per minute",
      value: `${perMinute(idleScaler)} requests`,
    });

    // A client waiting on one long call: the ramp, then one poll per POLL_MAX (steady state, second half).
    const waitMs = SIZES.waitSeconds * 1000;
    const waitBefore = fexec.storageOperations().client;
    let halfway = 0;
    const half = setTimeout(
      () => {
        halfway = fexec.storageOperations().client;
      },
      200 + waitMs / 2,
    );
    const started = Date.now();
    await fexec.callAsync(async (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)), waitMs);
    await fexec.getResult();
    clearTimeout(half);
    const waited = Date.now() - started;
    const end = fexec.storageOperations().client;
    row({
      benchmark: "Idle polling cost",
      measure: `client waiting on one ${SIZES.waitSeconds} s call: requests in all / per minute in the second half (steady state)`,
      value: `${end - waitBefore} / ${((end - halfway) / ((waited - 200 - waitMs / 2) / 60_000)).toFixed(0)} per minute`,
    });
    row({ benchmark: "Idle polling cost", measure: `result seen after the ${SIZES.waitSeconds} s call ended (poll backoff)`, value: millis(waited - waitMs) });
  } finally {
    await fexec.close();
    await proxied.close();
  }
}

function report(info: ReturnType<typeof machineInfo>, totalMs: number): string {
  const lines = [
    `# Benchmark results: ${info.date.slice(0, 10)} on ${info.host}${quick ? " (quick run)" : ""}`,
    "",
    `- Date: ${info.date}`,
    `- Machine: \`${info.uname}\``,
    `- CPU: ${info.cpuModel}, ${info.cores} cores; memory ${info.memoryGb} GB; load average at start ${info.loadAverage}`,
    `- Node.js ${info.node}; command \`npm run bench${quick ? " -- --quick" : ""}\`; whole run ${seconds(totalMs)}`,
    "- Local backend: Azurite + 2 worker processes of 1 call each (maxWorkers 2, workerProcesses 1), local cooldown 120 s so that workers stay warm between benchmarks.",
    "- Storage requests are counted by the SDK clients (client, and workers reporting with each batch output); a proxy in front of Azurite checks the count below.",
    "",
    "## Targets (issue 7)",
    "",
    "Reference: Lithops's own local backend on a 2-core machine, about 0.41 s from `call_async` to result (warm) and about 3.5 no-op calls/s in a 100-call map.",
    "",
    "| Target | Measured | Met |",
    "|---|---|---|",
    ...rows.filter((r) => r.target).map((r) => `| ${r.benchmark}: ${r.measure.split(" (")[0]} ${r.target} | ${r.value} | ${r.met ? "yes" : "**no**"} |`),
    "| No fixed sleeps on the hot path: polling backs off when idle, tightens when work flows | paced by time since progress (protocol/polling.ts); idle costs below | yes |",
    ...(quick ? ["| 100,000-call map, client peak RSS < 400 MB | not run in quick mode | - |"] : []),
    "",
    "## All measurements",
    "",
    "| Benchmark | Measure | Value | Target | Met |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.benchmark} | ${r.measure} | ${r.value} | ${r.target ?? ""} | ${r.met === undefined ? "" : r.met ? "yes" : "**no**"} |`),
    "",
  ];
  if (notes.length > 0) lines.push("Notes:", "", ...notes.map((n) => `- ${n}`), "");
  return lines.join("\n");
}

const info = machineInfo();
const runStarted = performance.now();
log(`${quick ? "quick" : "full"} run on ${info.host}: ${info.cpuModel} x${info.cores}, Node ${info.node}`);
await coldStart();
{
  const fexec = new FunctionExecutor(benchOptions());
  try {
    await warmLatency(fexec);
    await throughput(fexec);
    await cpuBound(fexec);
    await dataTransfer(fexec);
    await wordCount(fexec);
  } finally {
    await fexec.close();
  }
}
await scale();
await idleCost();
await progressCost();
const markdown = report(info, performance.now() - runStarted);
const day = info.date.slice(0, 10);
const path =
  outArg > 0
    ? process.argv[outArg + 1]
    : fileURLToPath(new URL(quick ? `./out/${day}-${info.host}-quick.md` : `./results/${day}-${info.host}.md`, import.meta.url));
mkdirSync(dirname(path), { recursive: true });
writeFileSync(path, markdown);
process.stdout.write(`${markdown}\nwritten to ${path}\n`);
