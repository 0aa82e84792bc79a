import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { resolveConfig } from "../../client/config.ts";
import { callCost, DEFAULT_PRICES, estimateCost, formatUsd, inferLifetimes, pricesFrom, type Prices } from "../../client/cost.ts";
import { LithopsError } from "../../protocol/errors.ts";

/** Round prices, so the expected figures below can be checked by hand. */
const PRICES: Prices = { ...DEFAULT_PRICES, vcpuSecondUsd: 0.00002, gibSecondUsd: 0.000002, storage10kRequestsUsd: 0.05 };

/**
 * The hand-computed job: runtime 1024 MB (0.5 vCPU, 1 GiB). Replica A lives 0-10 s and runs
 * calls 1-4 s and 4-6 s; replica B lives 2-8 s and runs a call 3-5 s.
 *   replica-seconds 10 + 6 = 16; vCPU-seconds 16 * 0.5 = 8; GiB-seconds 16 * 1 = 16
 *   compute 8 * 0.00002 + 16 * 0.000002 = 0.000192 USD
 *   storage (3,000 client + 7,000 worker requests) / 10,000 * 0.05 = 0.05 USD
 *   after the last call: A 10 - 6 = 4 s, B 8 - 5 = 3 s: 7 s * (0.5 * 0.00002 + 1 * 0.000002) = 0.000084 USD (44 %)
 */
const calls = [
  { workerId: "A", started: 1000, finished: 4000, memory: 1024 },
  { workerId: "A", started: 4000, finished: 6000, memory: 1024 },
  { workerId: "B", started: 3000, finished: 5000, memory: 1024 },
];
const lifetimes = [
  { workerId: "A", memory: 1024, started: 0, stopped: 10_000 },
  { workerId: "B", memory: 1024, started: 2000, stopped: 8000 },
];

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 1e-12, `${what}: ${actual}, expected ${expected}`);
}

describe("cost: what a job costs on Container Apps", () => {
  it("bills recorded replica lifetimes at the runtime's cpu/memory pair, plus storage requests", () => {
    const report = estimateCost({ calls, lifetimes, cooldownSeconds: 3, storageRequests: { client: 3000, workers: 7000 }, prices: PRICES, now: 50_000 });
    assert.equal(report.calls, 3);
    assert.equal(report.replicas, 2);
    close(report.replicaSeconds, 16, "replica-seconds");
    close(report.vcpuSeconds, 8, "vCPU-seconds");
    close(report.gibSeconds, 16, "GiB-seconds");
    assert.equal(report.storageRequests, 10_000);
    close(report.computeUsd, 0.000192, "compute USD");
    close(report.storageUsd, 0.05, "storage USD");
    close(report.usd, 0.050192, "USD");
    close(report.cooldownSeconds, 7, "cooldown seconds");
    close(report.cooldownUsd, 0.000084, "cooldown USD");
    assert.equal(report.lifetimesInferred, false);
    assert.ok(
      report.notes.some((n) => n.includes("44% of the compute cost")),
      report.notes.join("\n"),
    );
    assert.ok(report.notes.some((n) => /free grant/.test(n) && /idle rate/.test(n) && /egress/.test(n)));
    assert.equal(report.prices, PRICES);
  });

  it("bills only the replicas that ran the given calls when asked to", () => {
    const report = estimateCost({
      calls: calls.slice(2),
      lifetimes,
      onlyReplicasOfCalls: true,
      cooldownSeconds: 3,
      storageRequests: { client: 0, workers: 0 },
      prices: PRICES,
    });
    assert.equal(report.replicas, 1);
    close(report.replicaSeconds, 6, "replica B only");
  });

  it("infers Azure's lifetimes from the calls: first start to last finish plus the cooldown", () => {
    assert.deepEqual(inferLifetimes(calls, 5, 100_000), [
      { workerId: "A", memory: 1024, started: 1000, stopped: 11_000 },
      { workerId: "B", memory: 1024, started: 3000, stopped: 10_000 },
    ]);
    const report = estimateCost({ calls, cooldownSeconds: 5, storageRequests: { client: 0, workers: 0 }, prices: PRICES, now: 100_000 });
    assert.equal(report.lifetimesInferred, true);
    close(report.replicaSeconds, 17, "10 s + 7 s");
    close(report.vcpuSeconds, 8.5, "vCPU-seconds");
    close(report.cooldownSeconds, 10, "5 s cooldown each");
    assert.match(report.notes[0], /inferred from the calls' stats.*\(5 s\)/);
    // A replica still inside its cooldown is running: billed up to now.
    const early = estimateCost({ calls, cooldownSeconds: 5, storageRequests: { client: 0, workers: 0 }, prices: PRICES, now: 9000 });
    close(early.replicaSeconds, 8 + 6, "both still running at 9 s");
  });

  it("gives a call's own vCPU-seconds, GiB-seconds and USD", () => {
    const cost = callCost(2000, 2048, PRICES);
    close(cost.vcpuSeconds, 2, "2 s at 1 vCPU");
    close(cost.gibSeconds, 4, "2 s at 2 GiB");
    close(cost.usd, 2 * 0.00002 + 4 * 0.000002, "USD");
    assert.throws(
      () => callCost(1000, 1000, PRICES),
      (error: Error) => error instanceof LithopsError && /1000 MB is not an Azure Container Apps size/.test(error.message),
    );
  });

  it("takes prices from the config's cost: section, and rejects bad ones naming the key", () => {
    assert.deepEqual(pricesFrom(), DEFAULT_PRICES);
    const prices = pricesFrom(resolveConfig({ backend: "local", config: { cost: { vcpu_second_usd: 0.00001, region: "swedencentral" } } }).cost);
    assert.equal(prices.vcpuSecondUsd, 0.00001);
    assert.equal(prices.gibSecondUsd, DEFAULT_PRICES.gibSecondUsd);
    assert.equal(prices.region, "swedencentral");
    assert.match(prices.source, /config's cost: section/);
    assert.throws(
      () => resolveConfig({ backend: "local", config: { cost: { vcpu_second_usd: -1 } } }),
      (error: Error) => error instanceof LithopsError && /vcpu_second_usd/.test(error.message),
    );
    assert.throws(
      () => resolveConfig({ backend: "local", config: { cost: { vcpu_usd: 1 } } as never }),
      (error: Error) => error instanceof LithopsError && /vcpu_usd/.test(error.message),
    );
  });

  it("formats small amounts with significant digits", () => {
    assert.equal(formatUsd(0), "$0");
    assert.equal(formatUsd(0.000192), "$0.000192");
    assert.equal(formatUsd(12.345), "$12.35");
  });
});
