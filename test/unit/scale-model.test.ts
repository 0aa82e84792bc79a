import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { messagesFor, nextReplicaStep, predictScaling, replicaCap, type ScaleSettings } from "../../bench/scale-model.ts";

/** Settings that make hand computation easy: checks at 0, 10, 20, ...; no cold start; no cooldown. */
const base: ScaleSettings = {
  pollingIntervalS: 10,
  cooldownPeriodS: 0,
  maxReplicas: 30,
  slotsPerReplica: 1,
  queueLengthPerReplica: 1,
  cpuPerReplica: 0.25,
  coreQuota: 100,
  coldStartS: 0,
  firstCheckS: 0,
};

describe("scale model (bench/scale-model.ts)", () => {
  it("steps replicas 1, 4, 8, 16, 32 per check", () => {
    assert.deepEqual(
      [0, 1, 3, 4, 7, 8, 16, 20].map((n) => nextReplicaStep(n)),
      [1, 4, 4, 8, 8, 16, 32, 32],
    );
  });

  it("caps replicas at maxReplicas and at what the core quota fits", () => {
    assert.equal(replicaCap(base), 30);
    assert.equal(replicaCap({ ...base, cpuPerReplica: 4 }), 25);
    assert.equal(replicaCap({ ...base, cpuPerReplica: 2, coreQuota: 5 }), 2);
    assert.throws(() => predictScaling({ ...base, cpuPerReplica: 2, coreQuota: 1 }, { messages: [1], callSeconds: 1 }), /no replica fits/);
  });

  it("groups calls into messages as the client does: 4 per slot for small shares, 1 for large ones", () => {
    assert.deepEqual(messagesFor(100, 30), Array(100).fill(1));
    assert.deepEqual(messagesFor(10, 1), [3, 3, 3, 1]);
    assert.equal(messagesFor(10_000, 30).length, 30);
  });

  it("one call: cold start, the call, then idle until the first check after the cooldown", () => {
    // Check at 0: one replica, ready at 5, runs 5-15; checks every 30 s: removed at 90 (first >= 15 + 60).
    const p = predictScaling({ ...base, pollingIntervalS: 30, coldStartS: 5, cooldownPeriodS: 60 }, { messages: [1], callSeconds: 10 });
    assert.deepEqual(p, { wallS: 15, replicaSeconds: 90, idleReplicaSeconds: 75, peakReplicas: 1, firstReadyS: 5 });
  });

  it("ramps 1, 4, 8 over three checks", () => {
    // t=0: 1 replica runs message 0 (0-100); t=10: 3 more run 1-3 (10-110); t=20: 4 more run 4-7 (20-120).
    const p = predictScaling(base, { messages: Array(8).fill(1), callSeconds: 100 });
    assert.equal(p.wallS, 120);
    assert.equal(p.peakReplicas, 8);
    assert.equal(p.replicaSeconds, 1 * 120 + 3 * 110 + 4 * 100);
    assert.equal(p.idleReplicaSeconds, 0);
  });

  it("a core quota of 5 with 2-vCPU replicas holds the job to 2 replicas", () => {
    // t=0: 1 replica, message 0 (0-10); t=10: a 2nd, messages 1-2 (10-20); message 3 (20-30).
    const p = predictScaling({ ...base, cpuPerReplica: 2, coreQuota: 5 }, { messages: [1, 1, 1, 1], callSeconds: 10 });
    assert.deepEqual(p, { wallS: 30, replicaSeconds: 30 + 20, idleReplicaSeconds: 0, peakReplicas: 2, firstReadyS: 0 });
  });

  it("a replica of 2 slots with queueLength 2 takes two messages at once", () => {
    const p = predictScaling({ ...base, slotsPerReplica: 2, queueLengthPerReplica: 2 }, { messages: [1, 1, 1, 1], callSeconds: 10 });
    assert.deepEqual(p, { wallS: 20, replicaSeconds: 20, idleReplicaSeconds: 0, peakReplicas: 1, firstReadyS: 0 });
  });

  it("a message's calls run one after another", () => {
    const p = predictScaling(base, { messages: [3], callSeconds: 2 });
    assert.equal(p.wallS, 6);
  });
});
