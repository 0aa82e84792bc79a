import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isWorkerEnvMessage, isWorkerReadyMessage, WORKER_READY_MESSAGE, workerEnvMessage } from "../../protocol/worker-env-message.ts";

describe("worker environment over IPC (a spare local worker)", () => {
  it("recognizes the ready message and the environment message, as they arrive after a structured clone", () => {
    assert.ok(isWorkerReadyMessage(structuredClone(WORKER_READY_MESSAGE)));
    const message = structuredClone(workerEnvMessage({ LITHOPS_QUEUE: "q-1", LITHOPS_RUNTIME_MEMORY: "512" }));
    assert.ok(isWorkerEnvMessage(message));
    assert.deepEqual(message.env, { LITHOPS_QUEUE: "q-1", LITHOPS_RUNTIME_MEMORY: "512" });
  });

  it("refuses anything else: other messages, an environment with a value that is not a string", () => {
    for (const other of [
      undefined,
      null,
      "lithops-worker-env",
      { type: "lithops-wake" },
      { type: "lithops-worker-env" },
      { type: "lithops-worker-env", env: { A: 1 } },
    ]) {
      assert.equal(isWorkerEnvMessage(other), false, JSON.stringify(other));
    }
    assert.equal(isWorkerReadyMessage(workerEnvMessage({})), false);
    assert.equal(isWorkerReadyMessage({ type: "lithops-wake" }), false);
  });
});
