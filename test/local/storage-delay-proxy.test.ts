import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { InvalidArgumentError } from "../../protocol/errors.ts";
import { connectStorage } from "../../azure/storage-connection.ts";
import { type Azurite, startAzurite } from "../../local/azurite.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { delayStorageEndpoints, requestKind, STORAGE_DELAY_ENV, storageDelayFromEnv } from "../../local/storage-delay-proxy.ts";
import { testExecutor } from "../support/executor.ts";

describe("storage delay proxy (LITHOPS_LOCAL_STORAGE_DELAY_MS)", () => {
  let azurite: Azurite;
  before(async () => {
    azurite = await startAzurite();
  });
  after(async () => {
    await azurite.stop();
  });

  it("reads the delay from the environment and refuses what is not a whole number of 0-10000 ms", () => {
    assert.equal(storageDelayFromEnv({}), undefined);
    assert.equal(storageDelayFromEnv({ [STORAGE_DELAY_ENV]: "0" }), 0);
    assert.equal(storageDelayFromEnv({ [STORAGE_DELAY_ENV]: "25" }), 25);
    for (const bad of ["-1", "2.5", "ten", "10001"]) {
      assert.throws(
        () => storageDelayFromEnv({ [STORAGE_DELAY_ENV]: bad }),
        (error: Error) => {
          assert.ok(error instanceof InvalidArgumentError);
          assert.match(error.message, new RegExp(`'${bad}'.*0 to 10000`));
          return true;
        },
      );
    }
  });

  it("holds every blob and queue request for the delay, counts it, and forwards it unchanged", async () => {
    const { connectionString, proxies } = await delayStorageEndpoints(azurite.connectionString, { delayMs: 60 });
    try {
      assert.equal(proxies.length, 2);
      assert.notEqual(connectionString, azurite.connectionString);
      const clients = connectStorage({ connectionString, container: "delayed" });
      await clients.container.createIfNotExists();
      const started = performance.now();
      await clients.container.getBlockBlobClient("a.txt").uploadData(Buffer.from("hello"));
      const text = (await clients.container.getBlockBlobClient("a.txt").downloadToBuffer()).toString();
      const queue = clients.queueService.getQueueClient("delayed");
      await queue.createIfNotExists();
      await queue.sendMessage("m");
      const elapsed = performance.now() - started;
      assert.equal(text, "hello");
      // Two blob and two queue requests at least, each held 60 ms (a lower bound: never flaky).
      assert.ok(elapsed >= 4 * 60, `4 delayed requests took only ${elapsed.toFixed(0)} ms`);
      assert.equal(
        proxies.reduce((sum, p) => sum + p.count, 0),
        clients.counter.count,
      );
      const direct = connectStorage({ connectionString: azurite.connectionString, container: "delayed" });
      assert.equal((await direct.container.getBlockBlobClient("a.txt").downloadToBuffer()).toString(), "hello");
    } finally {
      await Promise.all(proxies.map((p) => p.close()));
    }
  });

  it("names a request's kind without its ids, so a workload's requests can be counted by kind", () => {
    const account = "/devstoreaccount1";
    assert.equal(requestKind("GET", `${account}/c1/lithops.jobs/ab12-1/M003/out/000002.bin?timeout=30`), "GET blob lithops.jobs/*/*/out/N.bin");
    assert.equal(requestKind("PUT", `${account}/c1/lithops.deliveries/q512-x/${"aB3_-".repeat(9)}`), "PUT blob lithops.deliveries/*/<digest>");
    assert.equal(requestKind("GET", `${account}/c1/lithops.jobs/ab12-1/M003/cancel.json`), "GET blob lithops.jobs/*/*/cancel.json");
    assert.equal(requestKind("GET", `${account}/c1?restype=container&comp=list&prefix=lithops.jobs%2Fab12-1%2F`), "GET container list");
    assert.equal(requestKind("GET", `${account}/q512-x/messages?numofmessages=1`), "GET queue messages");
    assert.equal(requestKind("DELETE", `${account}/q512-x/messages/0f1e-22?popreceipt=p`), "DELETE queue message");
    assert.equal(requestKind("GET", `${account}/q512-x?comp=metadata`), "GET queue metadata");
  });

  it("refuses a connection string with no loopback endpoint", async () => {
    await assert.rejects(delayStorageEndpoints("AccountName=x;AccountKey=eA==;EndpointSuffix=core.windows.net", { delayMs: 10 }), InvalidArgumentError);
  });

  it("with the variable set, the local backend's client, scaler and workers all go through the proxy", async () => {
    process.env[STORAGE_DELAY_ENV] = "5";
    const fexec = testExecutor();
    try {
      await fexec.map((x: number) => x * 2, [1, 2, 3]);
      assert.deepEqual(await fexec.getResult(), [2, 4, 6]);
      const backend = (await fexec.backend()) as LocalBackend;
      const proxied = backend.proxiedRequests() ?? 0;
      const { client, workers } = fexec.storageOperations();
      // Workers report their requests with their outputs; the proxy also saw the scaler's and the workers' latest polls.
      assert.ok(workers > 0, "no worker requests reported");
      assert.ok(proxied >= client + workers + backend.storageRequests(), `proxy saw ${proxied}, the counters report more`);
    } finally {
      delete process.env[STORAGE_DELAY_ENV];
      await fexec.close();
    }
  });
});
