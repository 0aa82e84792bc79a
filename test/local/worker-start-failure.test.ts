import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { LithopsError } from "../../client/index.ts";
import { WorkerStartError } from "../../local/errors.ts";
import { testExecutor } from "../support/executor.ts";

/**
 * Workers that cannot start (here: a variable the worker refuses, inherited from the client's
 * environment, as a broken install or a bad setting would do) used to be restarted forever
 * while the client waited out its timeout with no word of why. After MAX_FAILED_STARTS in a row
 * the scaler starts no more and the wait fails with WorkerStartError, quoting the workers' log.
 */
describe("local workers that cannot start", () => {
  const saved = process.env.LITHOPS_IDLE_POLL_MAX_MS;
  before(() => {
    process.env.LITHOPS_IDLE_POLL_MAX_MS = "soon";
  });
  after(() => {
    if (saved === undefined) delete process.env.LITHOPS_IDLE_POLL_MAX_MS;
    else process.env.LITHOPS_IDLE_POLL_MAX_MS = saved;
  });

  it("fail the wait with WorkerStartError naming the bad variable, well before its timeout", async () => {
    const fexec = testExecutor({ maxWorkers: 1 });
    try {
      const future = await fexec.callAsync((x: number) => x + 1, 1);
      const started = Date.now();
      await assert.rejects(fexec.getResult(future, { timeout: 120 }), (error: unknown) => {
        assert.ok(error instanceof WorkerStartError && error instanceof LithopsError, String(error));
        assert.match(error.message, /exited with an error 3 times in a row before they took a message/);
        assert.match(error.message, /LITHOPS_IDLE_POLL_MAX_MS/, "the log's tail names the variable the worker refused");
        return true;
      });
      const seconds = (Date.now() - started) / 1000;
      assert.ok(seconds < 100, `the wait failed after ${seconds} s, not at its 120 s timeout`);
    } finally {
      await fexec.close();
    }
  });
});
