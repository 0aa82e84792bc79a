import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RemoteCallError, type FunctionExecutor, type Storage, type StorageObject } from "../../client/index.ts";
import { executorWithObjects } from "../support/executor.ts";

const countWords = async (obj: StorageObject): Promise<number> => (await obj.data()).toString().split(/\s+/).filter(Boolean).length;
const sum = (counts: number[]): number => counts.reduce((a, b) => a + b, 0);

describe("mapReduce on the local backend", () => {
  let fexec: FunctionExecutor;
  let storage: Storage;
  const objects: Record<string, string> = {
    "mr/a.txt": "one two three\nfour five\n".repeat(40),
    "mr/b.txt": "six seven\neight",
    "mr/c.txt": "",
  };
  before(async () => {
    ({ fexec, storage } = await executorWithObjects(objects));
  });
  after(async () => {
    await fexec.close();
  });

  it("the reducer receives the map results in call order; getResult() is its value", async () => {
    const fs = await fexec.mapReduce(
      (x: number) => x * x,
      Array.from({ length: 40 }, (_, i) => i),
      (squares: number[]) => squares,
    );
    assert.equal(fs.length, 41);
    assert.equal(fs[40].jobId.startsWith("R"), true);
    const squares = Array.from({ length: 40 }, (_, i) => i * i);
    assert.deepEqual(await fexec.getResult(), squares);
  });

  it("getResult of the futures mapReduce returned is the reducer's value alone, as in Lithops; a map's own result() still works", async () => {
    const fs = await fexec.mapReduce((x: number) => x * 2, [1, 2, 3], sum);
    assert.equal(await fexec.getResult(fs), 12);
    assert.equal(await fs[1].result(), 4);
    assert.deepEqual(await fexec.getResult(), [], "every future counts as retrieved");
  });

  it("the reducer runs in a worker and reads the map outputs itself: with spawnReducer 0 the client reads none", async () => {
    const fs = await fexec.mapReduce(
      (x: number) => x + 1,
      [1, 2, 3, 4, 5, 6],
      (values: number[]) => ({ total: values.reduce((a, b) => a + b, 0), pid: process.pid }),
      { spawnReducer: 0 },
    );
    const reducer = fs.at(-1)!;
    const result = (await fexec.getResult(reducer)) as { total: number; pid: number };
    assert.equal(result.total, 27);
    assert.notEqual(result.pid, process.pid);
    assert.match(reducer.stats.workerId ?? "", /^local-/);
    // The client never collected a map's status document: it did not see them finish.
    assert.ok(fs.slice(0, -1).every((f) => f.status === "invoked"));
  });

  it("objReduceByKey: one reducer per object, in object order, an empty object's reducer gets []", async () => {
    const fs = await fexec.mapReduce(
      countWords,
      `az://${storage.bucket}/mr/`,
      (counts: number[]) => ({ parts: counts.length, words: counts.reduce((a, b) => a + b, 0) }),
      {
        objChunkSize: 100,
        objReduceByKey: true,
      },
    );
    const partsOf = (key: string): number => Math.ceil(Buffer.byteLength(objects[key]) / 100);
    assert.equal(fs.length, partsOf("mr/a.txt") + partsOf("mr/b.txt") + 3);
    assert.deepEqual(await fexec.getResult(fs), [
      { parts: partsOf("mr/a.txt"), words: 200 },
      { parts: 1, words: 3 },
      { parts: 0, words: 0 },
    ]);
  });

  it("without objReduceByKey, one reducer over every part of every object", async () => {
    await fexec.mapReduce(countWords, `az://${storage.bucket}/mr/`, sum, { objChunkNumber: 4 });
    assert.equal(await fexec.getResult(), 203);
  });

  it("a failed map fails the reducer with a message naming the map call", async () => {
    const fs = await fexec.mapReduce(
      (x: number) => {
        if (x === 3) throw new RangeError("three is not allowed");
        return x;
      },
      [1, 2, 3, 4],
      (values: number[]) => values.length,
    );
    await assert.rejects(fexec.getResult(), (error: unknown) => {
      assert.ok(error instanceof RemoteCallError);
      assert.equal(error.name, "MapCallError");
      assert.match(error.message, new RegExp(`call ${fs[0].jobId}/00002 failed \\(RangeError: three is not allowed\\)`));
      return true;
    });
  });

  it("refuses objReduceByKey without object input, before running anything", async () => {
    const before = fexec.allFutures().length;
    await assert.rejects(
      // @ts-expect-error objReduceByKey needs object input: the types refuse it too
      fexec.mapReduce((x: number) => x, [1], sum, { objReduceByKey: true }),
      /objReduceByKey: true reduces per storage object, but iterdata names none/,
    );
    assert.equal(fexec.allFutures().length, before);
  });
});
