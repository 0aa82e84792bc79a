import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { ANY_COMPLETED, CallCancelledError, getResult, RemoteCallError, wait, type FunctionExecutor } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";

const sleepThen = async (ms: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, ms));
  return ms;
};

describe("module-level wait and getResult over futures of several executors", () => {
  const first: FunctionExecutor = testExecutor({ maxWorkers: 1 });
  const second: FunctionExecutor = testExecutor({ maxWorkers: 1 });
  after(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it("waits for and collects futures of two executors, in the order given", async () => {
    const a = await first.map((x: number) => x * 2, [1, 2]);
    const b = await second.callAsync((s: string) => s.toUpperCase(), "b");
    const { done, notDone } = await wait([...a, b], { timeout: 60 });
    assert.equal(done.length, 3);
    assert.equal(notDone.length, 0);
    assert.deepEqual(await getResult([...a, b]), [2, 4, "B"]);
    // One executor's wait takes the other's futures too.
    assert.equal((await first.wait(b)).done.length, 1);
  });

  it("ANY_COMPLETED returns at the first done call of either executor", async () => {
    const fast = await second.callAsync(sleepThen, 10);
    const slow = await first.callAsync(sleepThen, 3000);
    const { done } = await wait([slow, fast], { returnWhen: ANY_COMPLETED, timeout: 60 });
    assert.ok(done.includes(fast));
    assert.equal(await getResult(slow), 3000);
  });

  it("throwExcept fails at the first error it reads, without waiting for the slow calls", async () => {
    const slow = await first.callAsync(sleepThen, 20_000);
    const failing = await second.callAsync(() => {
      throw new Error("fails at once");
    }, null);
    const started = Date.now();
    await assert.rejects(wait([slow, failing], { timeout: 60 }), (error: unknown) => error instanceof RemoteCallError && /fails at once/.test(error.message));
    assert.ok(Date.now() - started < 15_000, "wait returned only after the slow call");
    assert.ok(!slow.done);
  });

  it("a future whose executor was closed fails the wait at once instead of polling (the local backend's close() cancelled it)", async () => {
    const own = testExecutor({ maxWorkers: 1 });
    const orphan = await own.callAsync(sleepThen, 20_000);
    await own.close();
    const started = Date.now();
    await assert.rejects(first.wait(orphan), CallCancelledError);
    await assert.rejects(getResult(orphan), CallCancelledError);
    assert.ok(Date.now() - started < 5000);
  });

  it("an empty list needs no executor", async () => {
    assert.deepEqual(await wait([]), { done: [], notDone: [] });
    assert.deepEqual(await getResult([]), []);
  });
});
