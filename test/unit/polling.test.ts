import assert from "node:assert/strict";
import { describe, it, mock } from "node:test";
import type { ContainerClient } from "@azure/storage-blob";
import type { QueueClient } from "@azure/storage-queue";
import fc from "fast-check";
import { isWakeMessage, nextPollDelay, WAKE_MESSAGE } from "../../protocol/polling.ts";
import type { BatchContext } from "../../worker/batch-runner.ts";
import { QueueConsumer, type ConsumerSettings } from "../../worker/queue-consumer.ts";

describe("poll pacing", () => {
  const pacing = { minMs: 5, maxMs: 1000, fraction: 0.25 };

  it("stays within bounds, grows with idle time and is at most the fraction late", () => {
    fc.assert(
      fc.property(fc.nat(10_000_000), fc.nat(10_000_000), (a, b) => {
        const [early, late] = a <= b ? [a, b] : [b, a];
        const delay = nextPollDelay(early, pacing);
        assert.ok(delay >= pacing.minMs && delay <= pacing.maxMs);
        assert.ok(nextPollDelay(late, pacing) >= delay);
        if (early * pacing.fraction >= pacing.minMs) assert.ok(delay <= early * pacing.fraction);
      }),
    );
  });

  it("polls at the minimum right after progress and at the maximum once long idle", () => {
    assert.equal(nextPollDelay(0, pacing), 5);
    assert.equal(nextPollDelay(60_000, pacing), 1000);
  });

  it("recognizes only the wake message", () => {
    assert.ok(isWakeMessage(WAKE_MESSAGE));
    assert.ok(isWakeMessage({ ...WAKE_MESSAGE }));
    for (const other of [null, undefined, "wake", 1, {}, { type: "wake" }]) assert.equal(isWakeMessage(other), false);
  });
});

/** A thread pool with room for one call (none of whose calls ever waits on a nested job). */
const oneSlot = { pool: { capacity: 1, capacityChanged: () => new Promise(() => undefined) } } as unknown as BatchContext;
/** Idle polls back off to at most one a second. */
const settings: ConsumerSettings = { queueName: "q", visibilityTimeout: 10, maxDeliveries: 3, idlePollMaxMs: 1000, allowUnsigned: true, log: () => undefined };

/** A queue that is always empty and records when it was polled (in mocked time). */
function emptyQueue(polls: number[]): QueueClient {
  return {
    receiveMessages: async () => {
      polls.push(Date.now());
      return { receivedMessageItems: [] };
    },
  } as unknown as QueueClient;
}

/** A queue that hands out one (unreadable) message when `offer()` was called, and records its polls. */
function queueWithOneMessage(polls: number[]): { queue: QueueClient; offer(): void; takenAt(): number | undefined } {
  let offered = false;
  let taken: number | undefined;
  const queue = {
    receiveMessages: async () => {
      polls.push(Date.now());
      if (!offered) return { receivedMessageItems: [] };
      offered = false;
      taken = Date.now();
      return { receivedMessageItems: [{ messageId: "m1", popReceipt: "p1", dequeueCount: 1, messageText: "not a message", insertedOn: new Date() }] };
    },
    // The batch "runs" 10 s: its message is deleted that long after it was taken.
    deleteMessage: () => new Promise((resolve) => setTimeout(() => resolve({}), 10_000)),
  } as unknown as QueueClient;
  return {
    queue,
    offer: () => {
      offered = true;
    },
    takenAt: () => taken,
  };
}

/** Lets the consumer's awaited promises settle between timer ticks. */
async function settle(): Promise<void> {
  for (let i = 0; i < 20; i += 1) await Promise.resolve();
}

/** Advances mocked time by `ms` in 5 ms steps, settling after each. */
async function advance(ms: number): Promise<void> {
  for (let t = 0; t < ms; t += 5) {
    mock.timers.tick(5);
    await settle();
  }
}

/** Stops the consumer (no grace period) and waits for its run loop to end, in mocked time. */
async function stopConsumer(consumer: QueueConsumer, running: Promise<void>): Promise<void> {
  const stopped = consumer.stop(0);
  mock.timers.tick(1000);
  await settle();
  await stopped;
  mock.timers.tick(1000);
  await running;
}

describe("an idle worker's queue polling", () => {
  it("backs off to one poll per idlePollMaxMs, polls at once when nudged, then backs off again", async () => {
    mock.timers.enable({ apis: ["setTimeout", "Date"], now: 1_000_000 });
    const polls: number[] = [];
    const consumer = new QueueConsumer(emptyQueue(polls), emptyQueue([]), {} as ContainerClient, oneSlot, settings);
    try {
      const running = consumer.run();
      // One idle minute, in 5 ms steps.
      await advance(60_000);
      const minute = polls.length;
      // The ramp from 5 ms to the 1 s cap costs a few dozen polls, then one per second.
      assert.ok(minute >= 60 && minute <= 60 + 40, `${minute} polls in an idle minute`);
      const gaps = polls.slice(-10).map((p, i, all) => (i === 0 ? 1000 : p - all[i - 1]));
      assert.ok(
        gaps.every((gap) => gap >= 995 && gap <= 1005),
        `last gaps ${gaps.join(", ")}`,
      );

      // Nudged (work was queued): it polls without waiting out its 1 s sleep...
      const before = polls.length;
      consumer.nudge();
      await settle();
      assert.equal(polls.length, before + 1);
      // ...and keeps polling every few ms for a while.
      await advance(50);
      assert.ok(polls.length - before >= 8, `${polls.length - before} polls in the 50 ms after a nudge`);

      await stopConsumer(consumer, running);
    } finally {
      mock.timers.reset();
    }
  });

  it("polls once as soon as a long batch ends, then backs off from when it last found work", async () => {
    mock.timers.enable({ apis: ["setTimeout", "setInterval", "Date"], now: 1_000_000 });
    const polls: number[] = [];
    const { queue, offer, takenAt } = queueWithOneMessage(polls);
    const container = { getBlockBlobClient: () => ({ upload: async () => ({}) }) } as unknown as ContainerClient;
    const consumer = new QueueConsumer(queue, queue, container, oneSlot, settings);
    try {
      const running = consumer.run();
      await advance(10_000);
      offer(); // taken at the next (1 s) poll, rejected, and deleted 10 s later
      await advance(12_000);
      const taken = takenAt();
      assert.ok(taken !== undefined, "the message was taken");
      const ended = taken + 10_000;
      const after = polls.filter((p) => p >= ended).map((p) => p - ended);
      // The slot is free: one poll at once (its job's next batch would be taken now).
      assert.ok(after[0] <= 5, `first poll ${after[0]} ms after the batch ended`);
      // The queue was empty: the next polls are paced by the 10 s since a poll last found a
      // message (a quarter of it, capped at 1 s), not restarted at 5 ms as if work had just come.
      assert.ok(after[1] - after[0] >= 995, `polls after the batch ended: ${after.slice(0, 5).join(", ")} ms`);
      await stopConsumer(consumer, running);
    } finally {
      mock.timers.reset();
    }
  });
});
