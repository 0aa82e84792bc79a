import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { FunctionExecutor } from "../../client/index.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { testExecutor } from "../support/executor.ts";

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe("local scaler: polling and scale to zero", () => {
  let fexec: FunctionExecutor;
  let backend: LocalBackend;
  before(async () => {
    fexec = testExecutor({ config: { local: { cooldown: 2 } } });
    backend = (await fexec.backend()) as LocalBackend;
  });
  after(async () => {
    await fexec.close();
  });

  it("polls the queue at most once a second while it is empty, less often the longer it stays empty, stops idle workers after the cooldown, and starts them again", async () => {
    await fexec.map((x: number) => x, [1, 2, 3, 4]);
    assert.deepEqual(await fexec.getResult(), [1, 2, 3, 4]);
    assert.ok(backend.runningWorkers().length > 0);

    const before = backend.storageRequests();
    await sleep(4000);
    const polls = backend.storageRequests() - before;
    assert.ok(polls <= 8, `${polls} queue-length polls in 4 s with an empty queue (200 ms polling would make 20)`);

    const deadline = Date.now() + 15_000;
    while (backend.runningWorkers().length > 0 && Date.now() < deadline) await sleep(200);
    assert.equal(backend.runningWorkers().length, 0, "workers still running long after the cooldown");

    await fexec.callAsync((x: number) => x + 1, 41);
    assert.equal(await fexec.getResult(), 42);
  });
});
