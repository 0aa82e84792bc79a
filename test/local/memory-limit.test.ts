import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type FunctionExecutor, OutOfMemoryError } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";

/**
 * runtimeMemory bounds a call's whole memory, Buffers included, which a thread's heap limit
 * does not see (issue 17, point 4): before, the loop below ran for minutes under host memory
 * pressure and ended as a PoisonCallError after three worker crashes.
 */
describe("runtimeMemory bounds off-heap memory too", () => {
  let fexec: FunctionExecutor;
  before(() => {
    fexec = testExecutor({ runtimeMemory: 512, maxWorkers: 1 });
  });
  after(async () => {
    await fexec.close();
  });

  async function outOfMemory(fn: () => unknown): Promise<OutOfMemoryError> {
    const began = Date.now();
    const future = await fexec.callAsync(fn, null);
    const error = await fexec.getResult(future).then(
      () => assert.fail("the call should have run out of memory"),
      (thrown: unknown) => thrown,
    );
    assert.ok(error instanceof OutOfMemoryError, `expected OutOfMemoryError, got ${String(error)}`);
    // The bound the issue asks for, generous on a shared machine; it ends in about a second.
    assert.ok(Date.now() - began < 30_000, `took ${Date.now() - began} ms`);
    assert.match(error.message, /to \d+ MB of resident memory, over runtime_memory 512 MB/);
    return error;
  }

  it("a synchronous loop of 64 MB Buffers fails with OutOfMemoryError naming its size and the limit, and the next call runs", async () => {
    await outOfMemory(() => {
      const held: Buffer[] = [];
      for (;;) held.push(Buffer.alloc(64 << 20, 1));
    });
    const next = await fexec.callAsync((x: number) => x + 1, 1);
    assert.equal(await fexec.getResult(next), 2);
  });

  it("Buffers gathered across awaits (24 x 64 MB) fail the same way", async () => {
    await outOfMemory(async () => {
      const held: Buffer[] = [];
      for (let k = 0; k < 24; k++) {
        held.push(Buffer.alloc(64 << 20, 1));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      return `${held.length * 64} MB held`;
    });
    const next = await fexec.callAsync(() => "still running", null);
    assert.equal(await fexec.getResult(next), "still running");
  });
});
