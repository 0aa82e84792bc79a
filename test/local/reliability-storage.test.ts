import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { ANY_COMPLETED, StorageUnavailableError, type FunctionExecutor } from "../../client/index.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { testExecutor } from "../support/executor.ts";

/**
 * The storage emulator stopped in the middle of a job, on the same ports and data folder
 * as before (LocalBackend.stopStorage / startStorage): workers and client retry with
 * backoff and the job completes; if storage stays away, the client fails with a clear
 * error after lithops.storage_retry_timeout instead of waiting forever.
 */
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const slowDouble = async (x: number): Promise<number> => {
  await new Promise((resolve) => setTimeout(resolve, 10));
  return x * 2;
};

describe("Azurite stopped and restarted mid-job", () => {
  let fexec: FunctionExecutor;
  before(() => {
    fexec = testExecutor({ maxWorkers: 2, config: { local: { visibility_timeout: 3 }, lithops: { storage_retry_timeout: 60 } } });
  });
  after(async () => {
    await fexec.close();
  });

  it("the job completes once storage is back, every call exactly once", async (t) => {
    const calls = 600;
    const fs = await fexec.map(
      slowDouble,
      Array.from({ length: calls }, (_, i) => i),
    );
    const backend = (await fexec.backend()) as LocalBackend;
    const endpoints = backend.azuriteEndpoints!;
    const { blobPort, queuePort, location } = endpoints;
    const started = Date.now();
    const gathering = fexec.getResult(fs);
    gathering.catch(() => undefined);
    await fexec.wait(fs, { returnWhen: ANY_COMPLETED, throwExcept: false });
    const doneBefore = fs.filter((f) => f.done).length;
    await backend.stopStorage();
    await sleep(4000);
    await backend.startStorage();
    const after = backend.azuriteEndpoints!;
    assert.deepEqual([after.blobPort, after.queuePort, after.location], [blobPort, queuePort, location], "same ports and data folder");
    const results = (await gathering) as number[];
    const elapsed = Date.now() - started;
    assert.equal(results.length, calls);
    assert.equal(
      results.findIndex((v, i) => v !== i * 2),
      -1,
    );
    assert.ok(doneBefore > 0 && doneBefore < calls, `the outage came in the middle of the job (${doneBefore} calls done before it)`);
    assert.ok(elapsed < 60_000, `took ${elapsed} ms`);
    t.diagnostic(
      `calls ${calls}, done before the outage ${doneBefore}, completed ${results.length}, re-run ${fs.filter((f) => (f.stats.attempt ?? 1) > 1).length}, ${elapsed} ms with a 4 s outage`,
    );
  });
});

describe("Azurite stopped for longer than lithops.storage_retry_timeout", () => {
  let fexec: FunctionExecutor;
  before(() => {
    fexec = testExecutor({ maxWorkers: 1, config: { lithops: { storage_retry_timeout: 3 } } });
  });
  after(async () => {
    await fexec.close();
  });

  it("getResult fails with StorageUnavailableError in bounded time; after a restart the job can still be collected", async () => {
    const fs = await fexec.map(
      async (x: number) => {
        await new Promise((resolve) => setTimeout(resolve, 300));
        return x;
      },
      Array.from({ length: 20 }, (_, i) => i),
    );
    const backend = (await fexec.backend()) as LocalBackend;
    await backend.stopStorage();
    const started = Date.now();
    await assert.rejects(fexec.getResult(fs), (error: unknown) => {
      assert.ok(error instanceof StorageUnavailableError, String(error));
      assert.match(error.message, /storage unreachable for \d+ s \(limit lithops.storage_retry_timeout = 3 s\)/);
      assert.match(error.message, /fexec.attach/);
      return true;
    });
    const elapsed = Date.now() - started;
    // The SDK's own retries (about 6 s) plus the 3 s limit, and some slack for a loaded machine.
    assert.ok(elapsed < 30_000, `failed after ${elapsed} ms`);
    await backend.startStorage();
    assert.deepEqual(
      await fexec.getResult(fs),
      Array.from({ length: 20 }, (_, i) => i),
    );
  });
});
