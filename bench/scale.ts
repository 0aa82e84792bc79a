/**
 * Scale, in a fresh process so that its memory is the client's alone: a no-op map of N
 * calls (default 100,000) on a warm executor; wall time and the client's peak RSS/heap.
 * Prints one JSON line.
 */
import { FunctionExecutor } from "../client/index.ts";
import { withMemoryPeak } from "./lib.ts";
import { benchOptions, noop } from "./workloads.ts";

const calls = Number(process.argv[2] ?? 100_000);
const fexec = new FunctionExecutor(benchOptions());
try {
  await fexec.map(
    noop,
    Array.from({ length: 8 }, (_, i) => i),
  );
  await fexec.getResult();
  const rssBefore = process.memoryUsage().rss;
  const opsBefore = fexec.storageOperations();
  const started = performance.now();
  const { value, peakRss, peakHeap } = await withMemoryPeak(async () => {
    await fexec.map(
      noop,
      Array.from({ length: calls }, (_, i) => i),
    );
    return (await fexec.getResult()) as number[];
  });
  const wallMs = performance.now() - started;
  if (value.length !== calls || value[calls - 1] !== calls - 1) throw new Error("scale: wrong results");
  const ops = fexec.storageOperations();
  console.log(
    JSON.stringify({
      calls,
      wallMs,
      rssBefore,
      peakRss,
      peakHeap,
      clientOps: ops.client - opsBefore.client,
      workerOps: ops.workers - opsBefore.workers,
    }),
  );
} finally {
  await fexec.close();
}
