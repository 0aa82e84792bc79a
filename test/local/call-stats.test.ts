import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ALWAYS, type CallStatus } from "../../client/index.ts";
import { suiteExecutor } from "../support/executor.ts";
import { sleep } from "../support/processes.ts";

/**
 * What the worker measures of each call (protocol/output.ts's CallStats: the busy time of
 * the call's thread and its peak memory growth) and the states a future goes through
 * (`invoked`, `running`, `ready`, then `success` / `error`), on the local backend.
 */
describe("per-call stats and states", () => {
  const fexec = suiteExecutor({ maxWorkers: 1 });

  it("a 300 ms busy loop reports about 300 ms of CPU; a 300 ms sleep reports little", { timeout: 60_000 }, async () => {
    const futures = await fexec().map(
      async (kind: string) => {
        const start = Date.now();
        if (kind === "busy") while (Date.now() - start < 300);
        else await new Promise((resolve) => setTimeout(resolve, 300));
        return kind;
      },
      ["busy", "sleep"],
    );
    await fexec().getResult(futures);
    const [busy, idle] = futures.map((f) => f.stats.cpuMs ?? Number.NaN);
    assert.ok(busy >= 250 && busy < 2000, `busy call: ${busy} ms`);
    assert.ok(idle < 100, `sleeping call: ${idle} ms`);
  });

  it("a call that allocates ~50 MB reports a larger peak memory than a no-op", { timeout: 60_000 }, async () => {
    const futures = await fexec().map(
      (kind: string) => {
        if (kind === "noop") return 0;
        const chunks = Array.from({ length: 50 }, () => Buffer.alloc(1024 * 1024, 1));
        return chunks.reduce((sum, chunk) => sum + chunk[0], 0);
      },
      ["alloc", "noop"],
    );
    assert.deepEqual(await fexec().getResult(futures), [50, 0]);
    const [alloc, noop] = futures.map((f) => f.stats.peakMemoryBytes ?? Number.NaN);
    assert.ok(alloc >= 45 * 1024 * 1024, `allocating call: ${alloc} bytes`);
    assert.ok(noop < 10 * 1024 * 1024, `no-op: ${noop} bytes`);
    assert.ok(alloc > noop);
  });

  it("futures go invoked -> running -> ready -> success as their batch runs", { timeout: 60_000 }, async () => {
    // One batch of three 3 s calls run one after the other: its progress is written every second,
    // so each call is seen running over a few writes even when a loaded machine delays some.
    const futures = await fexec().map(
      async (n: number) => {
        await new Promise((resolve) => setTimeout(resolve, 3000));
        return n;
      },
      [0, 1, 2],
      { chunksize: 3 },
    );
    const seen = futures.map(() => new Set<CallStatus>());
    while (!futures.every((f) => f.done)) {
      await fexec().wait(futures, { returnWhen: ALWAYS, throwExcept: false });
      futures.forEach((f, i) => {
        seen[i].add(f.status);
      });
      await sleep(100);
    }
    assert.deepEqual(await fexec().getResult(futures), [0, 1, 2]);
    assert.ok(seen[0].has("running") && seen[0].has("ready"), `first call: ${[...seen[0]]}`);
    assert.ok(seen[1].has("ready"), `second call: ${[...seen[1]]}`);
    assert.ok(futures.every((f) => f.status === "success"));
  });
});
