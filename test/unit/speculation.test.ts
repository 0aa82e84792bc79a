import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it } from "node:test";
import { backupBatchOf, originalBatchOf } from "../../protocol/backup-batches.ts";
import { encodeCompact } from "../../protocol/data-codec.ts";
import { decodeMessage } from "../../protocol/message.ts";
import { detachSignature, verifySignature } from "../../protocol/signing.ts";
import { batchCalls } from "../../client/call-batches.ts";
import { ConfigError, FunctionExecutor } from "../../client/index.ts";
import { estimateCost, DEFAULT_PRICES } from "../../client/cost.ts";
import type { FutureOwner } from "../../client/future-owner.ts";
import { JobMonitor } from "../../client/job-monitor.ts";
import { newStats, ResponseFuture } from "../../client/response-future.ts";
import { shipFunction } from "../../client/ship-function.ts";
import { losingCopy, Speculation, STRAGGLER_RULE, stragglerThreshold } from "../../client/speculation.ts";
import { MemoryBackend } from "../support/memory-backend.ts";

/** Sums of finished durations, as the speculation keeps them. */
function finished(durations: number[]): { count: number; sumMs: number; sumSquaresMs: number } {
  return { count: durations.length, sumMs: durations.reduce((a, b) => a + b, 0), sumSquaresMs: durations.reduce((a, b) => a + b * b, 0) };
}

describe("the straggler rule", () => {
  it("considers no call before 5 calls and half the job have finished", () => {
    assert.equal(STRAGGLER_RULE.minFinished, 5);
    assert.equal(stragglerThreshold(finished([100, 100, 100, 100]), 6), undefined, "4 of 6 finished: fewer than 5");
    assert.equal(stragglerThreshold(finished([100, 100, 100, 100, 100]), 20), undefined, "5 of 20 finished: less than half");
    assert.notEqual(stragglerThreshold(finished([100, 100, 100, 100, 100]), 10), undefined, "5 of 10 finished");
  });

  it("is the finished calls' mean plus 3 standard deviations", () => {
    // mean 200, population standard deviation 100: 200 + 300.
    assert.equal(stragglerThreshold(finished([100, 300, 100, 300, 100, 300]), 6), 500);
  });

  it("is at least twice the mean: calls of near-identical durations are not backed up for being a little late", () => {
    assert.equal(stragglerThreshold(finished([100, 100, 100, 100, 100]), 5), 200);
  });
});

describe("backup copies over the in-memory backend", () => {
  const SIGNING_KEY = "k".repeat(32);
  let backend: MemoryBackend;
  let sent: string[];

  beforeEach(() => {
    backend = new MemoryBackend();
    sent = [];
    const send = backend.send.bind(backend);
    backend.send = (target, messages) => {
      sent.push(...messages);
      return send(target, messages);
    };
  });
  afterEach(() => backend.close());

  /** A job of six one-call batches, watched by a monitor, none of them queued yet. */
  async function sixCallJob() {
    const target = await backend.prepareRuntime("default", 512);
    const calls = [0, 1, 2, 3, 4, 5].map((x) => encodeCompact([x], "argument"));
    const batches = batchCalls({
      executorId: "ex-1",
      jobId: "M000",
      functionText: await shipFunction((x: number) => x * 10),
      calls,
      parallelism: 1,
      timeout: 60,
      queue: target.queue,
      signingKey: SIGNING_KEY,
      callsPerMessage: 1,
    });
    const owner = {} as FutureOwner<ResponseFuture>; // these futures are read by the monitor directly, never waited on
    const futuresOfBatch = new Map(
      batches.batches.map(({ batch, callIds }) => [
        batch,
        callIds.map((id) => new ResponseFuture("ex-1", "M000", id, true, newStats(Date.now(), batch, 1), owner)),
      ]),
    );
    const futures = [...futuresOfBatch.values()].flat();
    const monitor = new JobMonitor(backend.jobs);
    monitor.watch("ex-1", "M000", futuresOfBatch);
    const speculation = new Speculation();
    speculation.track({ jobId: "M000", messages: batches.messages, futuresOfBatch, backend, monitor, target, signingKey: SIGNING_KEY });
    return { target, batches, futures, monitor, speculation };
  }

  it("backs up nothing while fewer than 5 calls have finished, however long a call runs", async () => {
    const { target, batches, futures, monitor, speculation } = await sixCallJob();
    await backend.send(target, batches.messages.slice(0, 4));
    await backend.idle();
    await monitor.refresh(futures);
    futures[5].progressed("running");
    const now = Date.now();
    await speculation.backUpStragglers(futures, now);
    await speculation.backUpStragglers(futures, now + 3_600_000);
    assert.equal(sent.length, 4, "no backup queued");
  });

  it("queues one signed backup of a straggling batch under a batch number of its own; the first outcome wins, the other is never reported", async () => {
    const { target, batches, futures, monitor, speculation } = await sixCallJob();
    await backend.send(target, batches.messages.slice(0, 5)); // batch 5 stays "queued on a slow worker"
    await backend.idle();
    assert.equal(await monitor.refresh(futures), 5);
    futures[5].progressed("running");
    const now = Date.now();
    await speculation.backUpStragglers(futures, now); // first seen running now: age 0, not a straggler yet
    assert.equal(sent.length, 5);
    await speculation.backUpStragglers(futures, now + 60_000);
    assert.equal(sent.length, 6, "one backup queued");
    const backupText = sent[5];
    const signed = detachSignature(backupText);
    assert.ok(signed && verifySignature(signed.unsigned, signed.sig, SIGNING_KEY), "the backup carries a valid signature");
    const backup = decodeMessage(backupText);
    const original = decodeMessage(batches.messages[5]);
    assert.equal(backup.batch, backupBatchOf(5), "a batch number of its own");
    assert.equal(originalBatchOf(backup.batch), 5, "that says which batch it copies");
    assert.equal(originalBatchOf(5), 5);
    assert.deepEqual({ ...backup, batch: original.batch, submitted: original.submitted, sig: original.sig }, original, "the same calls and payloads");

    await speculation.backUpStragglers(futures, now + 120_000);
    assert.equal(sent.length, 6, "at most one backup per batch");

    await backend.idle();
    assert.equal(await monitor.refresh(futures), 1);
    assert.equal(futures[5].settledValue(true), 50);
    assert.equal(futures[5].stats.speculative, "backup");
    assert.equal(futures[0].stats.speculative, undefined, "calls without a backup are not marked");

    // The original finishes late: its outcome is not read, nothing completes twice.
    await backend.send(target, [batches.messages[5]]);
    await backend.idle();
    assert.equal(await monitor.refresh(futures), 0);
    assert.equal(futures[5].stats.speculative, "backup");
  });

  it("a job the wait did not refresh (a mapReduce's maps while getResult waits on the reducer) is refreshed for its stragglers", async () => {
    const { target, batches, futures, speculation } = await sixCallJob();
    await backend.send(target, batches.messages.slice(0, 5));
    await backend.idle();
    futures[5].progressed("running");
    const now = Date.now();
    await speculation.backUpStragglers([], now);
    assert.equal(futures.filter((f) => f.done).length, 5, "the job's outcomes were read");
    await speculation.backUpStragglers([], now + 60_000);
    assert.equal(sent.length, 6, "and its straggler backed up");
  });

  it("the losing copy is billed from when the client knew it ran until the winner was collected", async () => {
    const { target, batches, futures, monitor, speculation } = await sixCallJob();
    await backend.send(target, batches.messages.slice(0, 5));
    await backend.idle();
    await monitor.refresh(futures);
    futures[5].progressed("running");
    const now = Date.now();
    await speculation.backUpStragglers(futures, now - 10_000);
    await speculation.backUpStragglers(futures, now);
    await backend.idle();
    await monitor.refresh(futures);
    const straggler = futures[5];
    const other = losingCopy(straggler, 1024);
    assert.deepEqual(other, {
      workerId: "ex-1/M000/batch 5 (original)",
      started: now - 10_000,
      finished: straggler.stats.collected,
      memory: 1024,
    });
    assert.equal(losingCopy(futures[0], 1024), undefined);
    const calls = futures.map((f) => ({ ...f.stats, memory: 1024 }));
    const input = { cooldownSeconds: 0, storageRequests: { client: 0, workers: 0 }, prices: DEFAULT_PRICES, now: Date.now() };
    const alone = estimateCost({ ...input, calls });
    const both = estimateCost({ ...input, calls: [...calls, other ?? calls[0]] });
    assert.equal(both.replicas, alone.replicas + 1, "a replica for the losing copy");
    assert.ok(both.replicaSeconds - alone.replicaSeconds >= 9.9, `${both.replicaSeconds - alone.replicaSeconds} s more`);
  });
});

describe("the speculative option", () => {
  it("is off by default, set on the executor as the default of its jobs, and refused when not a boolean", async () => {
    const backend = new MemoryBackend();
    const options = { backend: "local", progress: false, logLevel: "WARNING", config: {} } as const;
    try {
      assert.equal(new FunctionExecutor(options, { backend }).config.speculative, false);
      await using fexec = new FunctionExecutor({ ...options, speculative: true }, { backend });
      assert.equal(fexec.config.speculative, true);
      assert.throws(
        () => new FunctionExecutor({ ...options, speculative: "yes" as unknown as boolean }, { backend }),
        (error: Error) => {
          assert.ok(error instanceof ConfigError);
          assert.match(error.message, /new FunctionExecutor: speculative: "yes" is not valid/);
          return true;
        },
      );
      for (const call of [
        () => fexec.map((x: number) => x, [1], { speculative: 1 as unknown as boolean }),
        () => fexec.callAsync((x: number) => x, 1, { speculative: "no" as unknown as boolean }),
        () =>
          fexec.mapReduce(
            (x: number) => x,
            [1],
            (xs) => xs.length,
            { speculative: null as unknown as boolean },
          ),
      ]) {
        await assert.rejects(call, (error: Error) => error instanceof ConfigError && /speculative: .* is not valid/.test(error.message));
      }
      assert.deepEqual(await fexec.getResult(await fexec.map((x: number) => x + 1, [1, 2], { speculative: true })), [2, 3]);
    } finally {
      await backend.close();
    }
  });
});
