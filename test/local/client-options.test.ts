import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { args, ConfigError, FunctionExecutor, RetryingFunctionExecutor, type ResponseFuture } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";

/** Rejects with a ConfigError whose message matches, within 10 s (never a silent hang). */
async function failsFast(what: string, run: () => Promise<unknown>, message: RegExp): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no error within 10 s`)), 10_000);
  });
  try {
    await Promise.race([assert.rejects(run(), (error: unknown) => error instanceof ConfigError && message.test(error.message), what), hang]);
  } finally {
    clearTimeout(timer);
  }
}

/** Options as a user without type checks (JavaScript, parsed input) passes them. */
const untyped = (options: Record<string, unknown>): never => options as never;

describe("options are checked before anything is queued", () => {
  const fexec = testExecutor();
  after(() => fexec.close());
  const double = (x: number): number => x * 2;

  it("refuses bad timeouts with the worker's own schema, naming the value", async () => {
    await failsFast("timeout 0", () => fexec.callAsync(double, 1, { timeout: 0 }), /^callAsync: timeout: 0 is not valid: use a number above 0$/);
    await failsFast("timeout -1", () => fexec.map(double, [1], { timeout: -1 }), /^map: timeout: -1 is not valid/);
    await failsFast("timeout '5'", () => fexec.callAsync(double, 1, untyped({ timeout: "5" })), /timeout: "5" is not valid: use a number above 0/);
  });

  it("refuses a memory size outside the table and a chunksize outside 1..1000", async () => {
    await failsFast(
      "runtimeMemory",
      () => fexec.map(double, [1], { runtimeMemory: 1000 }),
      /map: runtimeMemory: 1000 MB is not an Azure Container Apps size; use one of 512, 1024/,
    );
    await failsFast("chunksize 0", () => fexec.map(double, [1], { chunksize: 0 }), /chunksize: 0 is not valid: use a whole number from 1 to 1000/);
    await failsFast("chunksize 1001", () => fexec.map(double, [1], { chunksize: 1001 }), /chunksize: 1001 is not valid: use a whole number from 1 to 1000/);
    await failsFast(
      "spawnReducer",
      () => fexec.mapReduce(double, [1], (xs: number[]) => xs.length, { spawnReducer: 120 }),
      /spawnReducer: 120 is not valid: use a number of at least 0 and at most 100/,
    );
    await failsFast(
      "extraEnv",
      () => fexec.callAsync(double, 1, { extraEnv: { LITHOPS_QUEUE: "x" } }),
      /extraEnv: name "LITHOPS_QUEUE" is one of the worker.s own settings/,
    );
  });

  it("refuses unknown option names in every method, naming the nearest valid one", async () => {
    const future = await fexec.callAsync(double, 1);
    await failsFast("callAsync", () => fexec.callAsync(double, 1, untyped({ timout: 5 })), /callAsync: unknown option "timout": did you mean "timeout"\?/);
    await failsFast("map", () => fexec.map(double, [1], untyped({ chunkSize: 2 })), /map: unknown option "chunkSize": did you mean "chunksize"\?/);
    await failsFast(
      "mapReduce",
      () => fexec.mapReduce(double, [1], (xs: number[]) => xs, untyped({ spawnReduce: 0 })),
      /unknown option "spawnReduce": did you mean "spawnReducer"\?/,
    );
    await failsFast("wait", () => fexec.wait(future, untyped({ returnWhem: "ALWAYS" })), /wait: unknown option "returnWhem": did you mean "returnWhen"\?/);
    await failsFast(
      "getResult",
      () => fexec.getResult(future, untyped({ throwExept: false })),
      /getResult: unknown option "throwExept": did you mean "throwExcept"\?/,
    );
    await failsFast(
      "retrying map",
      () => new RetryingFunctionExecutor(fexec).map(double, [1], untyped({ retrys: 1 })),
      /unknown option "retrys": did you mean "retries"\?/,
    );
    await failsFast(
      "constructor",
      async () => new FunctionExecutor(untyped({ maxworkers: 2 })),
      /new FunctionExecutor: unknown option "maxworkers": did you mean "maxWorkers"\?/,
    );
    assert.equal(await fexec.getResult(future), 2);
  });

  it("accepts Lithops's larger memory sizes (4608-7680 MB)", async () => {
    for (const runtimeMemory of [4608, 5120, 7680]) assert.equal(new FunctionExecutor({ runtimeMemory, config: {} }).config.runtimeMemory, runtimeMemory);
  });
});

describe("executor options of Lithops: extraEnv, chunksize, spawnReducer", () => {
  const fexec = testExecutor();
  after(() => fexec.close());

  it("chunksize sets the calls per invocation message", async () => {
    const fs = await fexec.map((x: number) => x, [1, 2, 3, 4, 5, 6, 7], { chunksize: 3 });
    const batches = new Map<number, number>();
    for (const f of fs) batches.set(f.stats.batch, (batches.get(f.stats.batch) ?? 0) + 1);
    assert.deepEqual([...batches.values()], [3, 3, 1]);
    assert.deepEqual(await fexec.getResult(fs), [1, 2, 3, 4, 5, 6, 7]);
  });

  it("extraEnv sets environment variables for the calls, and only for them", async () => {
    const read = (name: string) => process.env[name] ?? "unset";
    const f = await fexec.callAsync(read, "LITHOPS_TEST_GREETING", { extraEnv: { LITHOPS_TEST_GREETING: "hello" } });
    assert.equal(await f.result({ timeout: 60 }), "hello");
    const later = await fexec.map(read, ["LITHOPS_TEST_GREETING", "LITHOPS_TEST_GREETING"]);
    assert.deepEqual(await fexec.getResult(later, { timeout: 60 }), ["unset", "unset"]);
  });

  it("spawnReducer: 100 queues the reducer only once every map is done; the default 20 does the same for 20%", async () => {
    const slowMap = async (ms: number): Promise<number> => {
      await new Promise((resolve) => setTimeout(resolve, ms));
      return ms;
    };
    const started = Date.now();
    const fs = await fexec.mapReduce(slowMap, [50, 1500], (values: number[]) => values.reduce((a, b) => a + b, 0), { spawnReducer: 100 });
    // mapReduce returned after the slow map, so its reducer was queued after it.
    assert.ok(Date.now() - started >= 1400, `returned after ${Date.now() - started} ms`);
    const maps = fs.slice(0, 2) as ResponseFuture<number>[];
    assert.ok(maps.every((f) => f.done));
    assert.equal(await fexec.getResult(), 1550);
    const early = await fexec.mapReduce(slowMap, [10, 10, 10, 10, 3000], (values: number[]) => values.length);
    assert.ok(!early[4].done, "the default spawnReducer waited for every map");
    assert.equal(await fexec.getResult(), 5);
  });

  it("args() elements and extraArgs still spread into positional arguments", async () => {
    const f = await fexec.map((a: number, b: number, c: number) => a + b + c, [args(1, 2), args(3, 4)], { extraArgs: [100] });
    assert.deepEqual(await fexec.getResult(f), [103, 107]);
  });
});
