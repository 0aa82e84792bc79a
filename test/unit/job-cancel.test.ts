import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { CallCancelledError, FunctionExecutor, LithopsError } from "../../client/index.ts";
import { cancelJobCalls } from "../../client/job-cancel.ts";
import { addToCancelMarker, isCallCancelled, parseCancelMarker } from "../../protocol/job-cancel.ts";
import { cancelMarkerKey } from "../../protocol/keys.ts";
import { MemoryBackend } from "../support/memory-backend.ts";

describe("cancel markers (protocol/job-cancel.ts)", () => {
  it("cancel some calls, then more, then all; all stays all", () => {
    const some = addToCancelMarker(undefined, ["00001"]);
    assert.equal(isCallCancelled(some, "00001"), true);
    assert.equal(isCallCancelled(some, "00002"), false);
    const more = addToCancelMarker(some, ["00002", "00001"]);
    assert.deepEqual(more, { calls: ["00001", "00002"] });
    const all = addToCancelMarker(more, undefined);
    assert.equal(isCallCancelled(all, "99999"), true);
    assert.deepEqual(addToCancelMarker(all, ["00003"]), { all: true });
    assert.equal(isCallCancelled(undefined, "00001"), false);
  });

  it("a marker that is not one names its key and the valid forms", () => {
    for (const text of ["not json", '{"calls":[1]}', "{}"]) {
      assert.throws(
        () => parseCancelMarker(Buffer.from(text), "k/cancel.json"),
        (error: unknown) => error instanceof LithopsError && /k\/cancel\.json/.test((error as Error).message),
      );
    }
    assert.deepEqual(parseCancelMarker(Buffer.from('{"all":true}'), "k"), { all: true });
  });
});

describe("fexec.cancel() over the in-memory backend", () => {
  const backend = new MemoryBackend();
  const fexec = new FunctionExecutor({ progress: false }, { backend });
  after(async () => {
    await fexec.close();
    await backend.close();
  });

  it("rejects unfinished futures with CallCancelledError (a LithopsError) and writes the job's marker; finished ones keep their result", async () => {
    const [done] = await fexec.map((x: number) => x * 2, [1]);
    assert.equal(await done.result(), 2);
    backend.pause();
    const futures = await fexec.map((x: number) => x, [1, 2, 3]);
    await fexec.cancel(futures.slice(1));
    for (const future of futures.slice(1)) await assert.rejects(future.result(), (e: unknown) => e instanceof CallCancelledError && e instanceof LithopsError);
    const marker = await backend.jobs.get(cancelMarkerKey(fexec.executorId, futures[0].jobId));
    assert.deepEqual(JSON.parse(String(marker)), { calls: ["00001", "00002"] });
    await fexec.cancel();
    await assert.rejects(futures[0].result(), CallCancelledError);
    assert.equal(await done.result(), 2);
    // `job cancel` from another process: all calls of the job.
    await cancelJobCalls(backend.jobs, fexec.executorId, futures[0].jobId);
    assert.deepEqual(JSON.parse(String(await backend.jobs.get(cancelMarkerKey(fexec.executorId, futures[0].jobId)))), { all: true });
    backend.resume();
  });
});
