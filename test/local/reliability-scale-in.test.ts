import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { RemoteCallError, type FunctionExecutor, type ResponseFuture } from "../../client/index.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { connectStorage, type StorageClients } from "../../azure/storage-connection.ts";
import { attemptLogKey, outputPrefix } from "../../protocol/keys.ts";
import { decodeBatchOutput, type BatchOutput } from "../../protocol/output.ts";
import { testExecutor } from "../support/executor.ts";
import { aliveAfter, sleep } from "../support/processes.ts";

/**
 * Scale-in on the local backend: the worker running a call is stopped three times in a row.
 * SIGTERM (what Container Apps sends on scale-in or a new revision) hands the call back and
 * counts toward no delivery limit, so with max_deliveries 3 the call still succeeds on its
 * fourth delivery; SIGKILL (a crash) counts, so the same sequence ends as a PoisonCallError.
 */
const MAX_DELIVERIES = 3;
const INTERRUPTIONS = 3;

/**
 * Notes its attempt (a file holding its worker's pid, which is the pid of the thread's
 * process) and then, for the first `INTERRUPTIONS` attempts, runs far longer than the local
 * grace period: only an interruption ends those. Later attempts return their number at once.
 */
const interruptible = async (dir: string, interruptions: number): Promise<number> => {
  const { readdirSync, writeFileSync } = await import("node:fs");
  const attempt = readdirSync(dir).length + 1;
  writeFileSync(`${dir}/${attempt}`, String(process.pid));
  if (attempt <= interruptions) await new Promise((resolve) => setTimeout(resolve, 300_000));
  return attempt;
};

describe("a call whose worker is stopped three times in a row (max_deliveries 3)", () => {
  let fexec: FunctionExecutor;
  let clients: StorageClients;
  let dir: string;

  before(async () => {
    // One worker, one call at a time; a killed worker's message is visible again within 2 s.
    fexec = testExecutor({ maxWorkers: 1, workerProcesses: 1, config: { local: { visibility_timeout: 2, max_deliveries: MAX_DELIVERIES, cooldown: 2 } } });
    clients = connectStorage(((await fexec.backend()) as LocalBackend).storage);
  });
  after(async () => {
    await fexec.close();
  });

  /** Submits the interruptible call, then sends `signal` to the worker running each of its first three attempts. */
  async function interruptThreeTimes(signal: NodeJS.Signals): Promise<ResponseFuture> {
    dir = mkdtempSync(join(tmpdir(), "lithops-scale-in-"));
    const future = await fexec.callAsync(interruptible, dir, { extraArgs: [INTERRUPTIONS] });
    for (let attempt = 1; attempt <= INTERRUPTIONS; attempt += 1) {
      const file = join(dir, String(attempt));
      const deadline = Date.now() + 60_000;
      while (!(existsSync(file) && readFileSync(file, "utf8") !== "") && Date.now() < deadline) await sleep(50);
      assert.ok(existsSync(file), `attempt ${attempt} did not start within 60 s`);
      const pid = Number(readFileSync(file, "utf8"));
      process.kill(pid, signal);
      // The next attempt may only start once this worker is gone: one interruption per delivery.
      assert.deepEqual(await aliveAfter([pid], 30_000), [], `the worker of attempt ${attempt} exited after ${signal}`);
    }
    return future;
  }

  /** The attempt log's release records: the deliveries handed back on SIGTERM. */
  async function releasedDeliveries(future: ResponseFuture): Promise<number[]> {
    const text = (
      await clients.container.getAppendBlobClient(attemptLogKey(future.executorId, future.jobId, future.stats.batch)).downloadToBuffer()
    ).toString();
    return text
      .split("\n")
      .filter((line) => line !== "")
      .map((line) => JSON.parse(line) as { r?: number })
      .flatMap((record) => (record.r === undefined ? [] : [record.r]));
  }

  /** Every output document of the call's job, decoded. */
  async function outputs(future: ResponseFuture): Promise<BatchOutput[]> {
    const found: BatchOutput[] = [];
    for await (const blob of clients.container.listBlobsFlat({ prefix: outputPrefix(future.executorId, future.jobId) })) {
      found.push(decodeBatchOutput(await clients.container.getBlockBlobClient(blob.name).downloadToBuffer(), undefined, blob.name));
    }
    return found;
  }

  it("SIGTERM each time: released, not counted as failed deliveries; the call succeeds once, on its fourth delivery", async (t) => {
    const started = Date.now();
    try {
      const future = await interruptThreeTimes("SIGTERM");
      assert.equal(await fexec.getResult(future), INTERRUPTIONS + 1, "the fourth attempt's result");
      assert.equal(future.status, "success");
      assert.equal(future.stats.attempt, INTERRUPTIONS + 1);
      const stored = await outputs(future);
      assert.equal(stored.length, 1, "one output document");
      assert.deepEqual(
        stored[0].calls.map((c) => [c.callId, c.ok]),
        [[future.callId, true]],
        "exactly one outcome, a success",
      );
      assert.deepEqual(await releasedDeliveries(future), [1, 2, 3], "each SIGTERM hand-back is in the attempt log");
      assert.equal(existsSync(join(dir, String(INTERRUPTIONS + 2))), false, "no fifth run");
      t.diagnostic(`SIGTERMs ${INTERRUPTIONS}, deliveries ${future.stats.attempt}, outcomes 1 (success), ${Date.now() - started} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("SIGKILL each time: every death counts; the call ends as a PoisonCallError without a fourth run", async (t) => {
    const started = Date.now();
    try {
      const future = await interruptThreeTimes("SIGKILL");
      const error = (await fexec.getResult(future, { throwExcept: false })) as unknown as RemoteCallError;
      assert.ok(error instanceof RemoteCallError, `expected a failure, got ${String(error)}`);
      assert.equal(error.name, "PoisonCallError");
      assert.match(error.message, new RegExp(`died ${MAX_DELIVERIES} times \\(limit ${MAX_DELIVERIES}`));
      assert.equal(existsSync(join(dir, String(INTERRUPTIONS + 1))), false, "the poison call was not run a fourth time");
      assert.deepEqual(await releasedDeliveries(future), [], "no delivery was recorded as released");
      const stored = await outputs(future);
      assert.equal(stored.length, 1);
      assert.equal(stored[0].calls.length, 1, "exactly one outcome");
      t.diagnostic(`SIGKILLs ${INTERRUPTIONS}, outcome PoisonCallError on delivery ${future.stats.attempt}, ${Date.now() - started} ms`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
