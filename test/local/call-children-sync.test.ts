import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { suiteExecutor } from "../support/executor.ts";
import { aliveAfter, isAlive, sleep } from "../support/processes.ts";

/**
 * The child of a synchronous spawn (spawnSync, execSync, execFileSync) ends with the call
 * blocked in it (worker/child-spawns.ts, worker/call-children.ts): at the call's timeout the
 * child and what it started are gone, the call fails with TimeoutError and the worker goes
 * on; a caller's own smaller timeout is kept.
 */

const scratch = mkdtempSync(join(tmpdir(), "lithops-sync-children-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function pidsWritten(path: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (!existsSync(path) || !readFileSync(path, "utf8").endsWith("\n")) {
    if (Date.now() > deadline) assert.fail(`the call did not write its pids to ${path} within ${ms} ms`);
    await sleep(100);
  }
  return readFileSync(path, "utf8").trim().split(" ").map(Number);
}

describe("a call's synchronous child process ends with it", () => {
  const fexec = suiteExecutor({ maxWorkers: 1, workerProcesses: 1 });

  it("execSync of a shell running sleep 60 in a call with timeout 2: TimeoutError, shell and sleep gone, the next call runs", { timeout: 60_000 }, async () => {
    const path = join(scratch, "exec-sync.txt");
    const started = Date.now();
    const future = await fexec().callAsync(
      async (pidFile: string) => {
        // An ESM named import: the worker's wrapper reaches it too.
        const { execSync } = await import("node:child_process");
        // The shell writes its own pid, its sleep's and its worker's, then waits for the sleep.
        execSync(`sleep 60 & echo $$ $! $PPID > ${pidFile}; wait`);
      },
      path,
      { timeout: 2 },
    );
    await assert.rejects(fexec().getResult(future), { name: "TimeoutError" });
    const failedAfter = Date.now() - started;
    assert.ok(failedAfter < 15_000, `the call failed ${failedAfter} ms after it was submitted`);
    const [shell, sleeper, worker] = await pidsWritten(path, 1000);
    for (const pid of [shell, sleeper, worker]) assert.ok(Number.isInteger(pid) && pid > 0, `a started process has a pid, got ${pid}`);
    assert.deepEqual(await aliveAfter([shell, sleeper], 5000), [], "the shell or its sleep still runs 5 s after the call timed out");
    // Ended with the call, not at its worker's exit (which kills every child left).
    assert.ok(isAlive(worker), "the worker process exited");
    const next = await fexec().callAsync((n: number) => n + 1, 41);
    assert.equal(await fexec().getResult(next), 42);
  });

  it("spawnSync with the caller's own timeout of 500 ms in a call of 60 s returns ETIMEDOUT at 500 ms", { timeout: 60_000 }, async () => {
    const future = await fexec().callAsync(
      () => {
        const { spawnSync } = require("node:child_process") as typeof import("node:child_process");
        const started = Date.now();
        const result = spawnSync("sleep", ["30"], { timeout: 500 });
        return { code: (result.error as NodeJS.ErrnoException | undefined)?.code, signal: result.signal, ms: Date.now() - started, pid: result.pid };
      },
      [],
      { timeout: 60 },
    );
    const outcome = (await fexec().getResult(future)) as { code?: string; signal: string | null; ms: number; pid: number };
    assert.equal(outcome.code, "ETIMEDOUT");
    // The caller's killSignal (the default, SIGTERM) is kept with its timeout.
    assert.equal(outcome.signal, "SIGTERM");
    assert.ok(outcome.ms >= 500 && outcome.ms < 10_000, `spawnSync returned after ${outcome.ms} ms`);
    assert.equal(isAlive(outcome.pid), false);
  });
});
