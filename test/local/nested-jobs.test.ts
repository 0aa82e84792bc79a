import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RemoteCallError, type FunctionExecutor } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";

/**
 * A function running in a worker makes its own executor. The outer call gives its worker
 * slot back while it waits on its nested calls (test/local/nested-deadlock.test.ts), so one
 * worker of one slot is enough.
 */
describe("nested jobs on the local backend", () => {
  let fexec: FunctionExecutor;
  before(() => {
    fexec = testExecutor({ maxWorkers: 1 });
  });
  after(async () => {
    await fexec.close();
  });

  it("new FunctionExecutor() in a worker inherits backend, storage and runtime, and its calls run", async () => {
    const future = await fexec.callAsync(async (n: number) => {
      const { FunctionExecutor } = await import("lithops-aca");
      const inner = new FunctionExecutor();
      try {
        await inner.map((x: number) => x * 10, [n, n + 1, n + 2]);
        const { backend, runtime, runtimeMemory, storage } = inner.config;
        return { values: await inner.getResult(), backend, runtime, runtimeMemory, container: storage.container, outerPid: process.pid };
      } finally {
        await inner.close();
      }
    }, 4);
    const result = (await fexec.getResult(future)) as Record<string, unknown>;
    assert.deepEqual(result.values, [40, 50, 60]);
    assert.equal(result.backend, "local");
    assert.equal(result.runtime, fexec.config.runtime);
    assert.equal(result.runtimeMemory, fexec.config.runtimeMemory);
    assert.equal(result.container, fexec.config.storage.container);
    assert.notEqual(result.outerPid, process.pid);
  });

  it("a function that returns futures gives their results: one future, or an array holding futures", async () => {
    const fs = await fexec.map(
      async (shape: string) => {
        const { FunctionExecutor } = await import("lithops-aca");
        const inner = new FunctionExecutor();
        try {
          if (shape === "one") return await inner.callAsync((x: string) => `${x}!`, "nested");
          const futures = await inner.map((x: number) => x * 3, [1, 2, 3]);
          return [...futures, "plain value"];
        } finally {
          await inner.close();
        }
      },
      ["one", "many"],
    );
    assert.deepEqual(await fexec.getResult(fs), ["nested!", [3, 6, 9, "plain value"]]);
    assert.ok(fs.every((f) => f.status === "success"));
  });

  it("a returned future whose call failed fails the outer call with the nested error", async () => {
    const future = await fexec.callAsync(async () => {
      const { FunctionExecutor } = await import("lithops-aca");
      const inner = new FunctionExecutor();
      try {
        return await inner.callAsync(() => {
          throw new TypeError("failed in the nested call");
        }, null);
      } finally {
        await inner.close();
      }
    }, null);
    await assert.rejects(fexec.getResult(future), (error: unknown) => {
      assert.ok(error instanceof RemoteCallError);
      assert.equal(error.name, "TypeError");
      assert.equal(error.message, "failed in the nested call");
      return true;
    });
    assert.equal(future.status, "error");
  });
});
