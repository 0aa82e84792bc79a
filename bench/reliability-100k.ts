/**
 * Issue 6, load: a no-op map of N calls (default 100,000) on the local backend, in a fresh
 * process so that the memory measured is the client's alone. RSS and heap are sampled
 * every 50 ms (and the kernel's RSS high-water mark read at the end); storage operations
 * per call come from fexec.storageOperations() (client requests + the requests the workers
 * report in their batch outputs) plus the local scaler's queue polls. Prints one JSON line.
 */
import { FunctionExecutor } from "../client/index.ts";
import type { LocalBackend } from "../local/local-backend.ts";
import { withMemoryPeak } from "./lib.ts";
import { benchOptions, noop } from "./workloads.ts";

const calls = Number(process.argv[2] ?? 100_000);
const fexec = new FunctionExecutor(benchOptions());
try {
  const rssAtStart = process.memoryUsage().rss;
  const backend = (await fexec.backend()) as LocalBackend;
  const started = performance.now();
  let submittedMs = 0;
  const { value, peakRss, peakHeap } = await withMemoryPeak(async () => {
    const fs = await fexec.map(
      noop,
      Array.from({ length: calls }, (_, i) => i),
    );
    submittedMs = performance.now() - started;
    return { fs, results: (await fexec.getResult(fs)) as number[] };
  });
  const wallMs = performance.now() - started;
  const { fs, results } = value;
  const wrong = results.findIndex((value, i) => value !== i);
  if (results.length !== calls || wrong !== -1) throw new Error(`wrong results: ${results.length} results, first wrong at ${wrong}`);
  const ops = fexec.storageOperations();
  const scalerOps = backend.storageRequests();
  console.log(
    JSON.stringify({
      calls,
      completed: results.length,
      failed: fs.filter((f) => f.failed).length,
      batches: new Set(fs.map((f) => f.stats.batch)).size,
      submittedMs,
      wallMs,
      rssAtStart,
      peakRss,
      peakHeap,
      clientOps: ops.client,
      workerOps: ops.workers,
      scalerOps,
      opsPerCall: (ops.client + ops.workers + scalerOps) / calls,
    }),
  );
} finally {
  await fexec.close();
}
