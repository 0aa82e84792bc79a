import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { CallTimeoutError } from "../../client/index.ts";
import { suiteExecutor } from "../support/executor.ts";

/**
 * Calls that wait on nested jobs give their worker slot back while they wait
 * (protocol/nested-wait.ts, worker/thread-pool.ts), so nested jobs complete on a bounded
 * number of workers: here 2 workers of 1 slot each, the default on this machine. 20 calls wait
 * on nested jobs (4 outer, 16 middle): enough that each worker starts as many threads as its
 * 512 MB allows (about 6, as many as with twice the outer calls) and further calls share the
 * threads of waiting calls. Every nested executor costs CPU while it polls: no more of them.
 */
describe("nested jobs never deadlock", () => {
  const fexec = suiteExecutor({ maxWorkers: 2, workerProcesses: 1 });

  it("4 outer calls, each mapping 4 calls that each map 2 more (52 calls), complete with the right values", { timeout: 180_000 }, async () => {
    const leaf = (x: number): number => x * x;
    const futures = await fexec().map(
      async (outer: number) => {
        const { FunctionExecutor } = await import("lithops-aca");
        const level1 = new FunctionExecutor();
        try {
          await level1.map(
            async (middle: number) => {
              const { FunctionExecutor } = await import("lithops-aca");
              const level2 = new FunctionExecutor();
              try {
                await level2.map((x: number) => x * x, [middle * 2, middle * 2 + 1]);
                return ((await level2.getResult()) as number[]).reduce((a, b) => a + b, 0);
              } finally {
                await level2.close();
              }
            },
            [0, 1, 2, 3].map((i) => outer * 4 + i),
          );
          return await level1.getResult();
        } finally {
          await level1.close();
        }
      },
      [0, 1, 2, 3],
    );
    const expected = [0, 1, 2, 3].map((outer) => [0, 1, 2, 3].map((i) => leaf(2 * (outer * 4 + i)) + leaf(2 * (outer * 4 + i) + 1)));
    assert.deepEqual(await fexec().getResult(futures), expected);
  });

  it("a nested wait that cannot finish fails the waiting call at its timeout, naming what it waited on", { timeout: 60_000 }, async () => {
    const started = Date.now();
    const future = await fexec().callAsync(
      async () => {
        const { FunctionExecutor } = await import("lithops-aca");
        const inner = new FunctionExecutor();
        // The nested call outlives the outer call's timeout: the outer wait cannot complete.
        await inner.callAsync(() => new Promise((resolve) => setTimeout(resolve, 30_000)), null);
        return inner.getResult();
      },
      null,
      // Long enough for the call to reach its wait on a loaded machine (at 4 s it once timed out before submitting).
      { timeout: 10 },
    );
    await assert.rejects(fexec().getResult(future), (error: Error) => {
      assert.ok(error instanceof CallTimeoutError, `${error.name}: ${error.message}`);
      assert.match(
        error.message,
        /did not finish within its timeout of 10 s \(it was waiting on 1 calls of job [\w-]+\/A000, which made no progress in time\)/,
      );
      return true;
    });
    assert.ok(Date.now() - started < 30_000, `failed after ${Date.now() - started} ms`);
  });
});
