import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import {
  ALWAYS,
  ANY_COMPLETED,
  FunctionExecutor,
  FutureNotWatchedError,
  getResult,
  LithopsError,
  RemoteCallError,
  ResultTimeoutError,
  wait,
} from "../../client/index.ts";
import { MemoryBackend } from "../support/memory-backend.ts";

/**
 * The client's logic over the in-memory backend (test/support/memory-backend.ts): no Azurite,
 * no worker process. What the local tier runs end to end, here in milliseconds.
 */

let backend: MemoryBackend;
const executors: FunctionExecutor[] = [];

function executor(): FunctionExecutor {
  const fexec = new FunctionExecutor({ backend: "local", progress: false, logLevel: "WARNING", config: {} }, { backend });
  executors.push(fexec);
  return fexec;
}

beforeEach(() => {
  backend = new MemoryBackend();
});
afterEach(async () => {
  backend.resume();
  await Promise.all(executors.splice(0).map((fexec) => fexec.close()));
  await backend.close();
});

describe("executor over the in-memory backend: submit and getResult", () => {
  it("callAsync: getResult of the future, and getResult() of a single call not from a map, is the value itself", async () => {
    const fexec = executor();
    const future = await fexec.callAsync((x: number) => x + 1, 41);
    assert.equal(await fexec.getResult(future), 42);
    await fexec.callAsync((x: string) => x.toUpperCase(), "a");
    assert.equal(await fexec.getResult(), "A");
  });

  it("map: results in call order; getResult() reports each call once (retrieved)", async () => {
    const fexec = executor();
    const futures = await fexec.map((x: number) => x * 2, [1, 2, 3, 4, 5]);
    assert.deepEqual(
      futures.map((f) => f.retrieved),
      [false, false, false, false, false],
    );
    assert.deepEqual(await fexec.getResult(), [2, 4, 6, 8, 10]);
    assert.ok(futures.every((f) => f.retrieved));
    assert.deepEqual(await fexec.getResult(), []);
    assert.equal(backend.received.length > 0, true);
  });

  it("a failed call: getResult throws its RemoteCallError; with throwExcept false the error takes the value's place", async () => {
    const fexec = executor();
    const futures = await fexec.map(
      (x: number) => {
        if (x === 2) throw new RangeError("two");
        return x;
      },
      [1, 2, 3],
    );
    await assert.rejects(fexec.getResult(futures), (error: unknown) => error instanceof RemoteCallError && /two/.test(error.message));
    const settled = await fexec.getResult(futures, { throwExcept: false });
    assert.equal(settled[0], 1);
    assert.ok(settled[1] instanceof RemoteCallError);
    assert.equal(settled[2], 3);
  });

  it("getResult with a timeout fails with ResultTimeoutError naming how many calls are not done", async () => {
    const fexec = executor();
    backend.pause();
    const future = await fexec.callAsync((x: number) => x, 1);
    await assert.rejects(
      fexec.getResult([future], { timeout: 0.05 }),
      (error: unknown) => error instanceof ResultTimeoutError && /1 of 1 calls not done/.test(error.message),
    );
    await assert.rejects(future.result({ timeout: 0.05 }), ResultTimeoutError);
    backend.resume();
    assert.equal(await future.result(), 1);
  });
});

describe("executor over the in-memory backend: wait", () => {
  it("ALWAYS returns at once; ANY_COMPLETED once one call is done; the default once all are", async () => {
    const fexec = executor();
    backend.pause();
    const futures = await fexec.map((x: number) => x, [1, 2, 3]);
    const always = await fexec.wait(futures, { returnWhen: ALWAYS });
    assert.deepEqual([always.done.length, always.notDone.length], [0, 3]);
    const timedOut = await fexec.wait(futures, { returnWhen: ANY_COMPLETED, timeout: 0.05 });
    assert.deepEqual([timedOut.done.length, timedOut.notDone.length], [0, 3]);
    backend.resume();
    const any = await fexec.wait(futures, { returnWhen: ANY_COMPLETED });
    assert.ok(any.done.length >= 1);
    const all = await fexec.wait(futures);
    assert.deepEqual([all.done.length, all.notDone.length], [3, 0]);
  });

  it("throwExcept: wait fails at the first failed call it reads; with throwExcept false it reports it as done", async () => {
    const fexec = executor();
    const futures = await fexec.map(
      (x: number) => {
        if (x === 1) throw new Error("one");
        return x;
      },
      [0, 1],
    );
    await assert.rejects(fexec.wait(futures), RemoteCallError);
    const { done } = await fexec.wait(futures, { throwExcept: false });
    assert.equal(done.filter((f) => f.failed).length, 1);
  });

  it("module-level wait and getResult take futures of several executors", async () => {
    const [a, b] = [executor(), executor()];
    const fa = await a.callAsync((x: number) => x * 10, 1);
    const fb = await b.callAsync((x: number) => x * 10, 2);
    const { done } = await wait([fa, fb]);
    assert.equal(done.length, 2);
    assert.deepEqual(await getResult([fa, fb]), [10, 20]);
    assert.equal(await getResult(fb), 20);
  });

  it("a future whose executor is closed before it finished fails a wait at once (FutureNotWatchedError)", async () => {
    const [a, b] = [executor(), executor()];
    backend.pause();
    const future = await a.callAsync((x: number) => x, 1);
    await a.close();
    await assert.rejects(
      b.wait([future], { timeout: 5 }),
      (error: unknown) => error instanceof FutureNotWatchedError && error.message.includes(`fexec.attach("${a.executorId}"`),
    );
  });
});

describe("executor over the in-memory backend: mapReduce", () => {
  it("getResult of the futures mapReduce returned is the reducer's value alone (Lithops); a map's own result() still works", async () => {
    const fexec = executor();
    const futures = await fexec.mapReduce(
      (x: number) => x * 2,
      [1, 2, 3],
      (doubles: number[]) => doubles.reduce((a, b) => a + b, 0),
    );
    assert.equal(futures.length, 4);
    assert.equal(await fexec.getResult(futures), 12);
    assert.equal(await futures[0].result(), 2);
    assert.deepEqual(await fexec.getResult(), []);
  });

  it("getResult() with no futures after a mapReduce is the reducer's value; the maps give none", async () => {
    const fexec = executor();
    await fexec.mapReduce(
      (x: number) => [x],
      [1, 2],
      (lists: number[][]) => lists.flat(),
    );
    assert.deepEqual(await fexec.getResult(), [1, 2]);
  });

  it("a failed map fails the reducer, and getResult reports the reducer's error", async () => {
    const fexec = executor();
    await fexec.mapReduce(
      (x: number) => {
        if (x === 2) throw new Error("no twos");
        return x;
      },
      [1, 2],
      (xs: number[]) => xs.length,
    );
    await assert.rejects(fexec.getResult(), (error: unknown) => error instanceof RemoteCallError && /no twos/.test(error.message));
  });
});

describe("executor over the in-memory backend: attach, storage and the backend", () => {
  it("attach: another executor on the same storage collects a job from its manifest", async () => {
    const [submitter, collector] = [executor(), executor()];
    backend.pause();
    await submitter.map((x: number) => x + 100, [1, 2, 3]);
    const attached = await collector.attach(submitter.executorId);
    assert.equal(attached.length, 3);
    backend.resume();
    assert.deepEqual(await collector.getResult(), [101, 102, 103]);
  });

  it("storageOperations counts the client's requests; backend() refuses a backend without a storage account", async () => {
    const fexec = executor();
    assert.deepEqual(fexec.storageOperations(), { client: 0, workers: 0 });
    await fexec.getResult(await fexec.callAsync((x: number) => x, 1));
    assert.ok(fexec.storageOperations().client > 0);
    await assert.rejects(fexec.backend(), (error: unknown) => error instanceof LithopsError && /without a storage account/.test(String(error)));
  });

  it("clean removes the executor's job documents", async () => {
    const fexec = executor();
    await fexec.getResult(await fexec.callAsync((x: number) => x, 1));
    assert.ok([...backend.jobs.documents.keys()].some((key) => key.includes(fexec.executorId)));
    await fexec.clean();
    assert.equal([...backend.jobs.documents.keys()].filter((key) => key.includes(fexec.executorId)).length, 0);
  });
});
