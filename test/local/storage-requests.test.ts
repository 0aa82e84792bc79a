import assert from "node:assert/strict";
import dc from "node:diagnostics_channel";
import type http from "node:http";
import { after, before, describe, it } from "node:test";
import { startAzurite, type Azurite } from "../../local/azurite.ts";
import { blobExists, connectStorage, downloadBytes, isNotFound, type StorageClients } from "../../azure/storage-connection.ts";

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
