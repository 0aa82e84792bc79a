/**
 * Issue 6, sustained load: M maps of N no-op calls back to back (default 10 x 5,000), in a
 * fresh process, two ways:
 * - `same`: all maps on one executor. It keeps every future it made (getResult(), plot()
 *   and jobSummary() use them), so its heap grows by what those futures hold: reported per
 *   retained future.
 * - `fresh`: an executor per map over one shared Azurite (local.connection_string), each
 *   closed after its map: nothing is retained on purpose, so any growth would be a leak.
 * After each map: a full GC, then heap, RSS and the open handles
 * (process.getActiveResourcesInfo()). Growth is judged from map 2 on (map 1 warms up).
 * Prints one JSON line.
 */
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { FunctionExecutor } from "../client/index.ts";
import { startAzurite } from "../local/azurite.ts";
import type { SustainedMode, SustainedResult, SustainedRow } from "./lib.ts";
import { benchOptions, noop } from "./workloads.ts";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

const maps = Number(process.argv[2] ?? 10);
const callsPerMap = Number(process.argv[3] ?? 5_000);

function handles(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const type of process.getActiveResourcesInfo()) counts[type] = (counts[type] ?? 0) + 1;
  return counts;
}

async function runMap(fexec: FunctionExecutor, map: number): Promise<number> {
  const started = performance.now();
  const fs = await fexec.map(
    noop,
    Array.from({ length: callsPerMap }, (_, i) => i),
  );
  const results = (await fexec.getResult(fs)) as number[];
  if (results.length !== callsPerMap || results.some((value, i) => value !== i)) throw new Error(`map ${map}: wrong results`);
  return performance.now() - started;
}

async function measure(map: number, ms: number, futures: number): Promise<SustainedRow> {
  // Let the last poll timers and sockets settle before looking at handles.
  await new Promise((resolve) => setTimeout(resolve, 300));
  gc();
  const byType = handles();
  const usage = process.memoryUsage();
  return { map, ms, heapUsed: usage.heapUsed, rss: usage.rss, handles: Object.values(byType).reduce((a, b) => a + b, 0), byType, futures };
}

function summary(rows: SustainedRow[]): SustainedMode {
  const second = rows[Math.min(1, rows.length - 1)];
  const last = rows[rows.length - 1];
  const retainedFutures = last.futures - second.futures;
  return {
    rows,
    heapGrowth: last.heapUsed - second.heapUsed,
    rssGrowth: last.rss - second.rss,
    heapPerRetainedFuture: retainedFutures > 0 ? (last.heapUsed - second.heapUsed) / retainedFutures : undefined,
    handleGrowth: last.handles - second.handles,
  };
}

/** All maps on one executor; it is closed (and unreachable) before the fresh-executor run. */
async function sameExecutor(): Promise<SustainedRow[]> {
  const rows: SustainedRow[] = [];
  const fexec = new FunctionExecutor(benchOptions());
  try {
    for (let map = 1; map <= maps; map += 1) {
      const ms = await runMap(fexec, map);
      rows.push(await measure(map, ms, fexec.allFutures().length));
    }
  } finally {
    await fexec.close();
  }
  return rows;
}

const same = await sameExecutor();

const fresh: SustainedRow[] = [];
const azurite = await startAzurite();
try {
  for (let map = 1; map <= maps; map += 1) {
    const executor = new FunctionExecutor(benchOptions({ config: { local: { cooldown: 120, connection_string: azurite.connectionString } } }));
    let ms: number;
    try {
      ms = await runMap(executor, map);
    } finally {
      await executor.close();
    }
    fresh.push(await measure(map, ms, 0));
  }
} finally {
  await azurite.stop();
}

const result: SustainedResult = { maps, callsPerMap, same: summary(same), fresh: summary(fresh) };
console.log(JSON.stringify(result));
