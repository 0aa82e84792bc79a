import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ALL_COMPLETED, ANY_COMPLETED, args, RemoteCallError, type FunctionExecutor } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";

function* numbers(n: number): Generator<number> {
  for (let i = 0; i < n; i += 1) yield i;
}

describe("local backend: the executor API", () => {
  let fexec: FunctionExecutor;
  before(() => {
    fexec = testExecutor();
  });
  after(async () => {
    await fexec.close();
  });

  it("callAsync then getResult returns the single value", async () => {
    await fexec.callAsync((x: number) => x + 7, 3);
    assert.equal(await fexec.getResult(), 10);
  });

  it("map with args() spreads positional arguments and keeps call order", async () => {
    await fexec.map((a: number, b: number) => a + b, [args(1, 1), args(2, 2), args(30, 3)]);
    assert.deepEqual(await fexec.getResult(), [2, 4, 33]);
  });

  it("a map of one call still returns an array; extraArgs are appended", async () => {
    const fs = await fexec.map((x: number, y: number) => x * y, [6], { extraArgs: [7] });
    assert.deepEqual(await fexec.getResult(fs), [42]);
  });

  it("takes any iterable (Set, generator) and object elements as named values", async () => {
    const fromSet = await fexec.map((x: number) => x * 2, new Set([1, 2, 3]));
    const fromGenerator = await fexec.map((x: number) => x + 1, numbers(4));
    const named = await fexec.map(({ x, y }: { x: number; y: number }) => x - y, [{ x: 5, y: 3 }]);
    assert.deepEqual(await fexec.getResult(fromSet), [2, 4, 6]);
    assert.deepEqual(await fexec.getResult(fromGenerator), [1, 2, 3, 4]);
    assert.deepEqual(await fexec.getResult(named), [2]);
  });

  it("runs closures, async functions and imports of Node built-ins", async () => {
    const offset = 100;
    const helper = (x: number): number => x * 2 + offset;
    const f = await fexec.callAsync(async function named(x: number) {
      const os = await import("node:os");
      return { value: helper(x), hasCpus: os.cpus().length > 0 };
    }, 1);
    assert.deepEqual(await f.result(), { value: 102, hasCpus: true });
  });

  it("keeps rich data types in arguments and results", async () => {
    const input = {
      buffer: Buffer.from("bytes"),
      date: new Date(86_400_000),
      map: new Map([["k", 1n]]),
      set: new Set([1, 2]),
      typed: new Float64Array([1.5, 2.5]),
      missing: undefined,
    };
    const f = await fexec.callAsync((value: typeof input) => ({ ...value, days: value.date.getTime() / 86_400_000 }), input);
    const output = (await f.result()) as typeof input & { days: number };
    assert.equal(Buffer.from(output.buffer).toString(), "bytes");
    assert.equal(output.days, 1);
    assert.equal(output.map.get("k"), 1n);
    assert.deepEqual([...output.set], [1, 2]);
    assert.deepEqual([...output.typed], [1.5, 2.5]);
    assert.ok("missing" in output && output.missing === undefined);
  });

  it("rethrows a remote error with its name, message and remote stack", async () => {
    await fexec.callAsync(function failing(x: number) {
      throw new RangeError(`bad ${x}`);
    }, 5);
    await assert.rejects(fexec.getResult(), (error: unknown) => {
      assert.ok(error instanceof RemoteCallError);
      assert.equal(error.name, "RangeError");
      assert.equal(error.message, "bad 5");
      assert.match(error.remoteStack ?? "", /RangeError: bad 5\n\s+at /);
      return true;
    });
  });

  it("returns the error instead with throwExcept: false, next to the other results", async () => {
    const fs = await fexec.map(
      (x: number) => {
        if (x === 1) throw new TypeError("one");
        return x;
      },
      [0, 1, 2],
    );
    const results = (await fexec.getResult(fs, { throwExcept: false })) as unknown[];
    assert.equal(results[0], 0);
    assert.ok(results[1] instanceof RemoteCallError && results[1].name === "TypeError");
    assert.equal(results[2], 2);
  });

  it("reports a thrown non-Error value", async () => {
    const f = await fexec.callAsync(() => {
      throw "plain string";
    }, null);
    const error = (await f.result({ throwExcept: false })) as RemoteCallError;
    assert.equal(error.name, "NonErrorThrown");
    assert.equal(error.thrownValue, "plain string");
  });

  it("wait: ANY_COMPLETED returns early, ALL_COMPLETED waits for all, with stats", async () => {
    const fs = await fexec.map(
      async (ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return ms;
      },
      [10, 1500],
    );
    const any = await fexec.wait(fs, { returnWhen: ANY_COMPLETED });
    assert.ok(any.done.length >= 1);
    const all = await fexec.wait(fs, { returnWhen: ALL_COMPLETED });
    assert.equal(all.done.length, 2);
    assert.equal(all.notDone.length, 0);
    for (const f of all.done) {
      assert.equal(f.status, "success");
      assert.ok(f.stats.started !== undefined && f.stats.finished !== undefined && f.stats.finished >= f.stats.started);
      assert.ok(f.stats.started >= f.stats.submitted - 5);
      assert.match(f.stats.workerId ?? "", /^local-/);
    }
  });

  it("getResult with a timeout rejects when calls are not done", async () => {
    const f = await fexec.callAsync(async () => new Promise((resolve) => setTimeout(resolve, 3000)), null);
    await assert.rejects(fexec.getResult(f, { timeout: 0.3 }), /not done after 0.3 s/);
    await assert.rejects(f.result({ timeout: 0.2 }), (error: Error) => error.name === "ResultTimeoutError" && /not done after 0.2 s/.test(error.message));
    await fexec.getResult(f);
  });

  it("a 1,000-call map needs far fewer storage requests than calls", async () => {
    const before = fexec.storageOperations();
    const fs = await fexec.map((x: number) => x, numbers(1000));
    const results = (await fexec.getResult(fs)) as number[];
    assert.equal(results.length, 1000);
    assert.equal(results[999], 999);
    const afterOps = fexec.storageOperations();
    const used = afterOps.client - before.client + (afterOps.workers - before.workers);
    assert.ok(used < 200, `1,000 calls used ${used} storage requests`);
  });
});
