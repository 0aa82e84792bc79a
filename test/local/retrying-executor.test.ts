import assert from "node:assert/strict";
import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { args, RetriesExhaustedError, RetryingFunctionExecutor } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";

/**
 * Fails its first `failures` runs for `x`. Local workers share this machine's file
 * system, so each run leaves a file in `dir`: the function counts its own earlier runs.
 */
async function flaky(dir: string, x: number, failures: number): Promise<number> {
  const { readdirSync, writeFileSync } = await import("node:fs");
  const runs = readdirSync(dir).filter((name) => name.startsWith(`${x}-`)).length;
  writeFileSync(`${dir}/${x}-${runs}`, "");
  if (runs < failures) throw new Error(`run ${runs + 1} of ${x} fails`);
  return x * 10;
}

describe("RetryingFunctionExecutor on the local backend", () => {
  let retrying: RetryingFunctionExecutor;
  let dir: string;
  before(() => {
    retrying = new RetryingFunctionExecutor(testExecutor());
  });
  after(async () => {
    await retrying.close();
  });
  const freshDir = (): string => {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = mkdtempSync(join(tmpdir(), "lithops-retry-"));
    return dir;
  };
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("runs failed calls again until they succeed, within retries", async () => {
    const runs = freshDir();
    const fs = await retrying.map(flaky, [args(runs, 0, 0), args(runs, 1, 1), args(runs, 2, 2)], { retries: 2 });
    assert.deepEqual(await retrying.getResult(fs), [0, 10, 20]);
    assert.deepEqual(
      fs.map((f) => f.attempts),
      [1, 2, 3],
    );
    assert.equal(readdirSync(runs).length, 6);
    // A retry is a new job of the wrapped executor.
    assert.notEqual(fs[2].future.jobId, fs[0].future.jobId);
  });

  it("getResult rejects naming a call that failed every run", async () => {
    const runs = freshDir();
    const fs = await retrying.map(flaky, [args(runs, 0, 0), args(runs, 1, 9)], { retries: 1 });
    await assert.rejects(retrying.getResult(fs), (error: unknown) => {
      assert.ok(error instanceof RetriesExhaustedError);
      assert.equal(error.index, 1);
      assert.equal(error.attempts, 2);
      assert.match(error.message, /^call 1 of the map \(element .*\) failed 2 time\(s\), last as M\d+\/00000: Error: run 2 of 1 fails$/);
      return true;
    });
    const values = await retrying.getResult(fs, { throwExcept: false });
    assert.equal(values[0], 0);
    assert.ok(values[1] instanceof RetriesExhaustedError);
    assert.equal(readdirSync(runs).filter((name) => name.startsWith("1-")).length, 2);
  });

  it("without retries a failure is final; wait reports it as done", async () => {
    const runs = freshDir();
    const fs = await retrying.map(flaky, [args(runs, 5, 1)]);
    const { done, notDone } = await retrying.wait(fs, { throwExcept: false });
    assert.deepEqual([done.length, notDone.length], [1, 0]);
    assert.equal(done[0].failed, true);
    assert.equal(done[0].attempts, 1);
    await assert.rejects(retrying.wait(fs), RetriesExhaustedError);
  });

  it("getResult() without futures collects this executor's calls not retrieved yet", async () => {
    const runs = freshDir();
    await retrying.map(flaky, [args(runs, 7, 1), args(runs, 8, 0)], { retries: 1 });
    await retrying.map(flaky, [args(runs, 9, 0)], { retries: 1 });
    const pending = await retrying.getResult(undefined, { throwExcept: false });
    assert.deepEqual(pending.slice(-3), [70, 80, 90]);
    assert.deepEqual(await retrying.getResult(), []);
  });

  it("a call reported by RetryingFuture.result() is not reported again by getResult()", async () => {
    const runs = freshDir();
    const [first, second] = await retrying.map(flaky, [args(runs, 3, 1), args(runs, 4, 0)], { retries: 1 });
    assert.equal(await first!.result(), 30);
    assert.deepEqual(await retrying.getResult(), [40]);
    assert.ok(second!.retrieved);
  });

  it("refuses a bad retries value", async () => {
    await assert.rejects(retrying.map(flaky, [], { retries: -1 }), /retries: -1 is not valid: use a whole number of 0 or more/);
  });
});
