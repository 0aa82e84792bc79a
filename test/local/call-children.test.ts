import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { suiteExecutor, testExecutor } from "../support/executor.ts";
import { aliveAfter, childProcesses, isAlive, sleep } from "../support/processes.ts";

/**
 * The child processes a call starts end with it (worker/call-children.ts): when it returns,
 * times out, is cancelled by close() or its worker stops, each `sleep 300` it started, what
 * those started, and a detached one in a process group of its own, is gone within seconds.
 */

const scratch = mkdtempSync(join(tmpdir(), "lithops-children-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Starts `sleep 300` three ways and returns their pids: a plain child, a shell's child (a grandchild), a detached child. */
async function startSleeps(): Promise<number[]> {
  const { exec, spawn } = await import("node:child_process");
  const plain = spawn("sleep", ["300"], { stdio: "ignore" });
  const shell = exec("sleep 300 & echo $!; wait");
  const grandchild = await new Promise<number>((resolve) => shell.stdout?.once("data", (line) => resolve(Number(String(line).trim()))));
  const detached = spawn("sleep", ["300"], { detached: true, stdio: "ignore" });
  detached.unref();
  return [plain.pid ?? 0, grandchild, detached.pid ?? 0];
}

/**
 * Writes the pids of startSleeps() to `path`, then never returns: blocked, so its thread's event
 * loop does not turn, as in a busy loop, but without spinning a core until the call is ended.
 */
async function startSleepsAndHang(path: string): Promise<never> {
  const fs = await import("node:fs");
  const pids = await startSleeps();
  fs.writeFileSync(path, JSON.stringify(pids));
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
}

async function pidsWritten(path: string, ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  while (!existsSync(path) || readFileSync(path, "utf8") === "") {
    if (Date.now() > deadline) assert.fail(`the call did not write its pids to ${path} within ${ms} ms`);
    await sleep(100);
  }
  return JSON.parse(readFileSync(path, "utf8")) as number[];
}

function assertStarted(pids: number[]): void {
  assert.equal(pids.length, 3);
  for (const pid of pids) assert.ok(Number.isInteger(pid) && pid > 0, `a started process has a pid, got ${pid}`);
  assert.equal(new Set(pids).size, 3);
}

describe("a call's child processes end with it", () => {
  const fexec = suiteExecutor({ maxWorkers: 1, workerProcesses: 1 });

  it("a call that started sleeps and returned: they are gone within a few seconds of its outcome", { timeout: 60_000 }, async () => {
    const future = await fexec().callAsync(startSleeps, []);
    const pids = (await fexec().getResult(future)) as number[];
    assertStarted(pids);
    assert.deepEqual(await aliveAfter(pids, 5000), [], "sleeps still running 5 s after the call's outcome");
  });

  it("a call that started sleeps and timed out (timeout: 2): they are gone, and the next call runs", { timeout: 60_000 }, async () => {
    const path = join(scratch, "timed-out.json");
    const future = await fexec().callAsync(startSleepsAndHang, path, { timeout: 2 });
    await assert.rejects(fexec().getResult(future), { name: "TimeoutError" });
    const pids = await pidsWritten(path, 1000);
    assertStarted(pids);
    assert.deepEqual(await aliveAfter(pids, 5000), [], "sleeps still running 5 s after the call timed out");
    const next = await fexec().callAsync((n: number) => n + 1, 41);
    assert.equal(await fexec().getResult(next), 42);
  });
});

describe("a running call's child processes end when its executor closes or its worker stops", () => {
  it("close() cancels the call and its sleeps are gone", { timeout: 60_000 }, async () => {
    const executor = testExecutor({ maxWorkers: 1, workerProcesses: 1 });
    const path = join(scratch, "closed.json");
    try {
      await executor.callAsync(startSleepsAndHang, path, { timeout: 120 });
      const pids = await pidsWritten(path, 30_000);
      assertStarted(pids);
      assert.ok(pids.every(isAlive), "the sleeps run while the call does");
      await executor.close();
      assert.deepEqual(await aliveAfter(pids, 5000), [], "sleeps still running 5 s after close()");
    } finally {
      await executor.close();
    }
  });
});

describe("a running call's child processes end when its worker process exits", () => {
  it("SIGTERM to the worker: it hands the call back and exits, and the sleeps are gone", { timeout: 60_000 }, async () => {
    const executor = testExecutor({ maxWorkers: 1, workerProcesses: 1 });
    const path = join(scratch, "worker-stopped.json");
    try {
      await executor.callAsync(startSleepsAndHang, path, { timeout: 120 });
      const pids = await pidsWritten(path, 30_000);
      assertStarted(pids);
      const workers = childProcesses(process.pid).filter((child) => child.command.includes("worker.mjs"));
      assert.equal(workers.length, 1, `one worker runs: ${JSON.stringify(workers)}`);
      process.kill(workers[0].pid, "SIGTERM");
      // The worker drains for the local grace less its release margin (5 s), then exits.
      assert.deepEqual(await aliveAfter([workers[0].pid], 15_000), [], "the worker did not exit");
      assert.deepEqual(await aliveAfter(pids, 3000), [], "sleeps still running after their worker exited");
    } finally {
      await executor.close();
    }
  });

  it("SIGTERM to the worker while its call waits in execSync: the child is killed at the exit, which it no longer holds up", { timeout: 60_000 }, async () => {
    const executor = testExecutor({ maxWorkers: 1, workerProcesses: 1 });
    const path = join(scratch, "sync-child.json");
    try {
      await executor.callAsync(
        async (pidFile: string) => {
          const { execSync } = await import("node:child_process");
          // The shell records its pid, then becomes the sleep.
          execSync(`echo "[$$]" > ${pidFile}; exec sleep 300`);
        },
        path,
        { timeout: 120 },
      );
      const pids = await pidsWritten(path, 30_000);
      const workers = childProcesses(process.pid).filter((child) => child.command.includes("worker.mjs"));
      assert.equal(workers.length, 1, `one worker runs: ${JSON.stringify(workers)}`);
      process.kill(workers[0].pid, "SIGTERM");
      assert.deepEqual(await aliveAfter([workers[0].pid], 15_000), [], "the worker did not exit");
      assert.deepEqual(await aliveAfter(pids, 3000), [], "the sleep still runs after its worker exited");
    } finally {
      await executor.close();
    }
  });
});
