import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CallCancelledError } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";
import { sleep } from "../support/processes.ts";
import { MODULE_EXEC_ARGV, runningModule } from "../support/package-paths.ts";

/**
 * Cancel on the local backend, with real workers: queued calls never start, a running call's
 * thread is ended within seconds, futures reject with CallCancelledError; a call left
 * unfinished by a closed executor is cancelled and never runs in another program's workers.
 * The calls leave files in a scratch folder: what ran, and a running call's heartbeat.
 */

const scratch = mkdtempSync(join(tmpdir(), "lithops-cancel-test-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

/** Appends to `path` every 100 ms, forever: a call that only cancel (or its timeout) ends. */
async function heartbeat(path: string): Promise<never> {
  const fs = await import("node:fs");
  for (;;) {
    fs.appendFileSync(path, "x");
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function markStarted(path: string): Promise<number> {
  const fs = await import("node:fs");
  fs.appendFileSync(path, "started\n");
  return 1;
}

async function until(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${ms} ms`);
    await sleep(100);
  }
}

/** Resolves once the file stopped growing for 1.5 s; fails if it still grows after `ms`. */
async function stopsGrowing(path: string, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  let size = statSync(path).size;
  let since = Date.now();
  while (Date.now() - since < 1500) {
    if (Date.now() > deadline) assert.fail(`${path} still grows ${ms} ms after cancel: the running call was not stopped`);
    await sleep(200);
    const now = statSync(path).size;
    if (now !== size) {
      size = now;
      since = Date.now();
    }
  }
}

describe("fexec.cancel()", () => {
  const fexec = testExecutor({ maxWorkers: 1 });
  after(() => fexec.close());

  it("stops the running call, starts none of the queued ones, and rejects their futures with CallCancelledError", async () => {
    const beat = join(scratch, "beat");
    const running = await fexec.callAsync(heartbeat, beat);
    const queued = await fexec.map(markStarted, [join(scratch, "q0"), join(scratch, "q1")]);
    await until(() => existsSync(beat), 60_000, "the first call starts");
    await fexec.cancel();
    for (const future of [running, ...queued]) {
      await assert.rejects(future.result(), (error: unknown) => error instanceof CallCancelledError && /was cancelled/.test((error as Error).message));
    }
    await stopsGrowing(beat, 20_000);
    // The worker is free again: it takes the queued messages, sees their job cancelled and runs nothing of them.
    assert.equal(await fexec.getResult(await fexec.callAsync((x: number) => x + 1, 1)), 2);
    assert.equal(existsSync(join(scratch, "q0")) || existsSync(join(scratch, "q1")), false, "a cancelled queued call ran");
  });
});

describe("a call left unfinished by a closed executor", () => {
  it("is cancelled: it never runs again, in this program or another, and an attach reports it cancelled", async () => {
    const ran = join(scratch, "never-settles");
    const first = testExecutor({ maxWorkers: 1 });
    const future = await first.callAsync(async (path: string) => {
      const fs = await import("node:fs");
      fs.appendFileSync(path, "started\n");
      return new Promise<never>(() => undefined);
    }, ran);
    await until(() => existsSync(ran), 60_000, "the never-settling call starts");
    await first.close();
    // Another program on the same data folder works for a while: before per-program queues and
    // cancel, the handed-back call ran again in its workers, holding one of them each time.
    const other = testExecutor({ maxWorkers: 2 });
    try {
      const results = await other.getResult(await other.map(async (x: number) => new Promise((r) => setTimeout(() => r(x), 500)), [1, 2, 3, 4, 5, 6, 7, 8]));
      assert.deepEqual(results, [1, 2, 3, 4, 5, 6, 7, 8]);
      await sleep(3000);
      assert.equal(readFileSync(ran, "utf8"), "started\n", "the closed executor's call ran again");
      const [attached] = await other.attach(future.executorId, [future.jobId]);
      await assert.rejects(attached.result(), CallCancelledError);
    } finally {
      await other.close();
    }
  });
});

describe("lithops-aca job cancel, from another process", () => {
  const fexec = testExecutor({ maxWorkers: 1 });
  after(() => fexec.close());

  it("cancels the job's running and queued calls: the program's futures reject with CallCancelledError", async () => {
    const beat = join(scratch, "cli-beat");
    const running = await fexec.callAsync(heartbeat, beat);
    const queued = await fexec.map(markStarted, [join(scratch, "cli-q0")]);
    await until(() => existsSync(beat), 60_000, "the first call starts");
    const cli = runningModule("cli/bin");
    const { stdout } = await promisify(execFile)(process.execPath, [...MODULE_EXEC_ARGV, cli, "job", "cancel", fexec.executorId, "-b", "local"], {
      env: { ...process.env, LITHOPS_STACK: "" },
    });
    assert.match(stdout, new RegExp(`cancelled ${fexec.executorId}/A000`));
    assert.match(stdout, new RegExp(`cancelled ${fexec.executorId}/M001`));
    // Nothing cancelled these futures in this process: the worker's outcomes say so.
    await assert.rejects(running.result({ timeout: 60 }), CallCancelledError);
    await assert.rejects(queued[0].result({ timeout: 60 }), CallCancelledError);
    await stopsGrowing(beat, 20_000);
    assert.equal(existsSync(join(scratch, "cli-q0")), false, "a cancelled queued call ran");
  });
});
