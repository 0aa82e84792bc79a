import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import type http from "node:http";
import { after, before, describe, it } from "node:test";
import { startAzurite, type Azurite } from "../../local/azurite.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { STORAGE_DELAY_ENV } from "../../local/storage-delay-proxy.ts";
import { blobExists, connectStorage, downloadBytes, isNotFound, type StorageClients } from "../../azure/storage-connection.ts";
import { testExecutor } from "../support/executor.ts";

describe("storage reads that keep connections alive (Azurite)", () => {
  let azurite: Azurite;
  let storage: StorageClients;
  let fresh = 0;
  const onResponse = (message: unknown): void => {
    if (!(message as { request: http.ClientRequest }).request.reusedSocket) fresh += 1;
  };
  before(async () => {
    azurite = await startAzurite();
    storage = connectStorage({ connectionString: azurite.connectionString, container: "requests-test" });
    await storage.container.createIfNotExists();
    await storage.container.getBlockBlobClient("full").uploadData(Buffer.from("0123456789"));
    await storage.container.getBlockBlobClient("empty").uploadData(Buffer.alloc(0));
    dc.subscribe("http.client.response.finish", onResponse);
  });
  after(async () => {
    dc.unsubscribe("http.client.response.finish", onResponse);
    await azurite.stop();
  });

  it("blobExists answers for present, empty and missing blobs", async () => {
    assert.equal(await blobExists(storage.container, "full"), true);
    assert.equal(await blobExists(storage.container, "empty"), true);
    assert.equal(await blobExists(storage.container, "missing"), false);
  });

  it("downloadBytes reads whole blobs, ranges and tails in one request each, and reports a missing blob as 404", async () => {
    const before = storage.counter.count;
    assert.equal((await downloadBytes(storage.container, "full")).toString(), "0123456789");
    assert.equal((await downloadBytes(storage.container, "full", 3)).toString(), "3456789");
    assert.equal((await downloadBytes(storage.container, "full", 2, 5)).toString(), "234");
    assert.equal((await downloadBytes(storage.container, "full", 4, 4)).length, 0);
    assert.equal((await downloadBytes(storage.container, "empty")).length, 0);
    assert.equal(storage.counter.count - before, 4, "one request per read (none for an empty range)");
    await assert.rejects(downloadBytes(storage.container, "missing"), (error: unknown) => isNotFound(error));
  });

  it("polling for a blob that is not there yet reuses one connection", async () => {
    await blobExists(storage.container, "missing");
    await downloadBytes(storage.container, "missing").catch(() => undefined);
    fresh = 0;
    for (let i = 0; i < 20; i += 1) {
      assert.equal(await blobExists(storage.container, "missing"), false);
      await assert.rejects(downloadBytes(storage.container, "missing"));
    }
    assert.ok(fresh <= 1, `${fresh} new connections for 40 requests answered 404 (a HEAD answered 404 costs one each)`);
  });
});

describe("a 1,000-call no-op map's storage requests (all of client, scaler and workers, counted at the proxy)", () => {
  it("costs at most 0.05 requests per call on 2 workers of 1 call: 2 batches, each its send, receive, delivery marker, cancel marker, output, delete and read", async () => {
    process.env[STORAGE_DELAY_ENV] = "0"; // the counting proxy, without delay
    const fexec = testExecutor({ maxWorkers: 2, workerProcesses: 1 });
    try {
      const backend = (await fexec.backend()) as LocalBackend;
      delete process.env[STORAGE_DELAY_ENV];
      const count = (kind: string): number => backend.proxiedRequestKinds().get(kind) ?? 0;
      // Both workers up and past their start before counting.
      await fexec.map((x: number) => x, [1, 2, 3, 4, 5, 6, 7, 8]);
      await fexec.getResult();
      for (let i = 0; i < 100 && backend.runningWorkers().length < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 50));
      await new Promise((resolve) => setTimeout(resolve, 500));

      const before = { all: backend.proxiedRequests() ?? 0, kinds: backend.proxiedRequestKinds() };
      const since = (kind: string): number => count(kind) - (before.kinds.get(kind) ?? 0);
      const calls = Array.from({ length: 1000 }, (_, i) => i);
      await fexec.map((x: number) => x, calls);
      assert.deepEqual(await fexec.getResult(), calls);
      // The map ends for storage when its last message is deleted (just after its output is written).
      for (let i = 0; i < 100 && since("DELETE queue message 204") < 2; i += 1) await new Promise((resolve) => setTimeout(resolve, 20));
      const requests = (backend.proxiedRequests() ?? 0) - before.all;
      const kinds = [...backend.proxiedRequestKinds()].map(([kind]) => `${kind}: ${since(kind)}`).filter((line) => !line.endsWith(": 0"));

      assert.equal(since("POST queue messages 201"), 2, `one batch per slot: ${kinds.join("; ")}`);
      assert.equal(since("PUT blob lithops.jobs/*/*/out/N.bin 201"), 2);
      assert.ok(requests <= 50, `${requests} requests for 1,000 calls (${(requests / 1000).toFixed(3)} per call): ${kinds.join("; ")}`);
    } finally {
      delete process.env[STORAGE_DELAY_ENV];
      await fexec.close();
    }
  });
});
