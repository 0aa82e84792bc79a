import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { DEFAULT_PRICES } from "../../client/cost.ts";
import type { FunctionExecutor } from "../../client/index.ts";
import type { ReplicaLifetime } from "../../runtime-model/backend.ts";
import { testExecutor } from "../support/executor.ts";
import { sleep } from "../support/processes.ts";

/**
 * fexec.cost() on the local backend: the local workers' recorded lifetimes, billed at the
 * runtime's cpu/memory pair (1024 MB: 0.5 vCPU, 1 GiB), plus the storage requests, recomputed
 * here from the prices and the lifetimes once every worker has scaled in.
 */
describe("cost: a job on the local backend, recomputed from the recorded lifetimes", () => {
  let fexec: FunctionExecutor;
  let lifetimes: ReplicaLifetime[];
  before(async () => {
    fexec = testExecutor({ maxWorkers: 2, runtimeMemory: 1024, config: { local: { cooldown: 1 } } });
    const futures = await fexec.map(async (ms: number) => new Promise((resolve) => setTimeout(resolve, ms)), [300, 200, 400, 100, 250, 150]);
    await fexec.getResult(futures);
    const backend = await fexec.backend();
    const deadline = Date.now() + 30_000;
    do {
      await sleep(200);
      lifetimes = backend.replicaLifetimes?.() ?? [];
    } while (lifetimes.some((life) => life.stopped === undefined) && Date.now() < deadline);
  });
  after(async () => {
    await fexec?.close();
  });

  it("bills each worker from start to stop at 0.5 vCPU and 1 GiB, plus the storage requests", async () => {
    assert.ok(lifetimes.length >= 1 && lifetimes.length <= 2, `${lifetimes.length} workers`);
    assert.ok(
      lifetimes.every((life) => life.stopped !== undefined && life.memory === 1024),
      JSON.stringify(lifetimes),
    );
    const report = await fexec.cost();
    const replicaSeconds = lifetimes.reduce((sum, life) => sum + ((life.stopped ?? 0) - life.started) / 1000, 0);
    const { client, workers } = fexec.storageOperations();
    const usd =
      replicaSeconds * 0.5 * DEFAULT_PRICES.vcpuSecondUsd +
      replicaSeconds * 1 * DEFAULT_PRICES.gibSecondUsd +
      ((client + workers) / 10_000) * DEFAULT_PRICES.storage10kRequestsUsd;
    assert.equal(report.calls, 6);
    assert.equal(report.replicas, lifetimes.length);
    assert.equal(report.lifetimesInferred, false);
    assert.ok(Math.abs(report.replicaSeconds - replicaSeconds) < 1e-9, `${report.replicaSeconds} vs ${replicaSeconds}`);
    assert.ok(Math.abs(report.vcpuSeconds - replicaSeconds * 0.5) < 1e-9);
    assert.ok(Math.abs(report.gibSeconds - replicaSeconds) < 1e-9);
    assert.ok(report.storageRequests >= client + workers - 5 && report.storageRequests > 0, `${report.storageRequests} storage requests`);
    assert.ok(Math.abs(report.usd - usd) < 1e-6, `${report.usd} vs ${usd}`);
    // The calls ran 1.4 s in all; the workers lived longer: start-up and the 1 s cooldown.
    assert.ok(replicaSeconds > 1.4 && report.cooldownSeconds > 0.5, `${replicaSeconds} replica-seconds, ${report.cooldownSeconds} after the last calls`);
    assert.deepEqual(report.prices, DEFAULT_PRICES);
    assert.match(report.notes.join("\n"), /local worker process from start to stop/);
  });

  it("gives each jobSummary row its own run time at the same pair and prices", async () => {
    const rows = await fexec.jobSummary();
    for (const row of rows) {
      const seconds = (row.durationMs ?? 0) / 1000;
      assert.ok(Math.abs((row.vcpuSeconds ?? -1) - seconds * 0.5) < 1e-9);
      assert.ok(Math.abs((row.gibSeconds ?? -1) - seconds) < 1e-9);
      assert.ok(Math.abs((row.usd ?? -1) - seconds * (0.5 * DEFAULT_PRICES.vcpuSecondUsd + DEFAULT_PRICES.gibSecondUsd)) < 1e-12);
    }
  });
});
