import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { Storage, StorageNoSuchKeyError, type FunctionExecutor } from "../../client/index.ts";
import { testExecutor } from "../support/executor.ts";
import { InvalidArgumentError, LithopsError } from "../../client/errors.ts";

const MB = 1024 * 1024;

/** `total` bytes of a repeating pattern, made 1 MB at a time: never held in memory at once. */
function generated(total: number): Readable {
  const block = Buffer.alloc(MB);
  for (let i = 0; i < MB; i += 1) block[i] = (i * 31 + 7) % 251;
  return Readable.from(
    (function* () {
      for (let sent = 0; sent < total; sent += MB) {
        const chunk = Buffer.from(block.subarray(0, Math.min(MB, total - sent)));
        chunk.writeUInt32BE(sent / MB); // every block differs
        yield chunk;
      }
    })(),
  );
}

async function sha256(stream: AsyncIterable<unknown>): Promise<{ hash: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of stream) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { hash: hash.digest("hex"), bytes };
}

/** Runs `work` while sampling this process's heap and buffer memory; returns the peak growth in bytes. */
async function peakMemoryGrowth(work: () => Promise<void>): Promise<number> {
  const used = (): number => {
    const { heapUsed, arrayBuffers } = process.memoryUsage();
    return heapUsed + arrayBuffers;
  };
  const baseline = used();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, used());
  }, 5);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, used()) - baseline;
}

describe("Storage: Lithops's storage API on the local backend", () => {
  let fexec: FunctionExecutor;
  let storage: Storage;
  before(() => {
    fexec = testExecutor();
    storage = new Storage(fexec);
  });
  after(async () => {
    await fexec.close();
  });

  it("bucket is the configured container", () => {
    assert.equal(storage.bucket, fexec.config.storage.container);
  });

  it("puts strings, Buffers and typed arrays; gets, heads and lists them", async () => {
    await storage.putObject(storage.bucket, "api/a.txt", "hello storage");
    await storage.putObject(storage.bucket, "api/b.bin", Buffer.from([0, 1, 2, 255]));
    await storage.putObject(storage.bucket, "api/sub/c.bin", new Uint8Array([9, 8, 7]));
    assert.equal((await storage.getObject(storage.bucket, "api/a.txt")).toString(), "hello storage");
    assert.deepEqual([...(await storage.getObject(storage.bucket, "api/b.bin"))], [0, 1, 2, 255]);
    assert.equal((await storage.headObject(storage.bucket, "api/a.txt")).size, 13);
    assert.deepEqual(await storage.listKeys(storage.bucket, "api/"), ["api/a.txt", "api/b.bin", "api/sub/c.bin"]);
    assert.deepEqual(await storage.listKeys(storage.bucket, "api/sub/"), ["api/sub/c.bin"]);
    const listed = await storage.listObjects(storage.bucket, "api/");
    assert.deepEqual(
      listed.map((o) => o.size),
      [13, 4, 3],
    );
    assert.ok((await storage.listKeys(storage.bucket)).includes("api/a.txt"));
  });

  it("gets byte ranges as HTTP does: inclusive, open-ended, clamped at the end", async () => {
    await storage.putObject(storage.bucket, "range.txt", "0123456789");
    const get = async (range: string): Promise<string> => (await storage.getObject(storage.bucket, "range.txt", { range })).toString();
    assert.equal(await get("bytes=2-5"), "2345");
    assert.equal(await get("bytes=7-"), "789");
    assert.equal(await get("bytes=8-100"), "89");
    assert.equal(await get("bytes=0-0"), "0");
    const stream = await storage.getObject(storage.bucket, "range.txt", { range: "bytes=1-3", stream: true });
    assert.equal((await sha256(stream)).bytes, 3);
    await assert.rejects(
      get("bytes=5-2"),
      (error: Error) =>
        error instanceof InvalidArgumentError && error instanceof LithopsError && /range "bytes=5-2" is not valid: use 'bytes=first-last'/.test(error.message),
    );
    await assert.rejects(get("0-3"), /range "0-3" is not valid/);
  });

  it("names the missing object or container", async () => {
    await assert.rejects(storage.getObject(storage.bucket, "no/such.txt"), (error: unknown) => {
      assert.ok(error instanceof StorageNoSuchKeyError);
      assert.match(error.message, /az:\/\/lithops-jobs\/no\/such.txt does not exist/);
      return true;
    });
    await assert.rejects(storage.headObject(storage.bucket, "no/such.txt"), StorageNoSuchKeyError);
    await assert.rejects(storage.getObject("no-such-container", "x"), /container 'no-such-container' does not exist/);
    await assert.rejects(storage.putObject("no-such-container", "x", "data"), /container 'no-such-container' does not exist/);
    await assert.rejects(storage.putObject(storage.bucket, "../escape", "x"), /not a valid blob key/);
    await assert.rejects(storage.listKeys("Not_A_Container"), /not a valid Azure container name/);
  });

  it("createBucket makes a container to put objects in; again, it keeps it and its objects; a bad name is refused", async () => {
    await assert.rejects(storage.putObject("user-results", "a.txt", "x"), /container 'user-results' does not exist/);
    await storage.createBucket("user-results");
    await storage.putObject("user-results", "a.txt", "kept");
    await storage.createBucket("user-results");
    assert.equal((await storage.getObject("user-results", "a.txt")).toString(), "kept");
    await assert.rejects(
      storage.createBucket("Not_A_Container"),
      (error: unknown) => error instanceof LithopsError && /not a valid Azure container name/.test(error.message),
    );
  });

  it("deletes objects; deleting a missing one is not an error", async () => {
    await Promise.all(["del/1", "del/2", "del/3"].map((key) => storage.putObject(storage.bucket, key, key)));
    await storage.deleteObject(storage.bucket, "del/1");
    assert.deepEqual(await storage.listKeys(storage.bucket, "del/"), ["del/2", "del/3"]);
    await storage.deleteObjects(storage.bucket, ["del/2", "del/3", "del/never-was"]);
    assert.deepEqual(await storage.listKeys(storage.bucket, "del/"), []);
    await storage.deleteObject(storage.bucket, "del/1");
  });

  it("uploadFile / downloadFile round-trip a 20 MB file (Lithops's upload_file / download_file)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "storage-files-"));
    try {
      const source = join(dir, "source.bin");
      const target = join(dir, "target.bin");
      await pipeline(generated(20 * MB), createWriteStream(source));
      await storage.uploadFile(storage.bucket, "files/20mb.bin", source);
      assert.equal((await storage.headObject(storage.bucket, "files/20mb.bin")).size, 20 * MB);
      await storage.downloadFile(storage.bucket, "files/20mb.bin", target);
      assert.deepEqual(await sha256(createReadStream(target)), await sha256(createReadStream(source)));

      const missing = join(dir, "missing.bin");
      await assert.rejects(storage.downloadFile(storage.bucket, "files/no-such.bin", missing), /az:\/\/lithops-jobs\/files\/no-such.bin does not exist/);
      assert.equal(existsSync(missing), false, "no file is made for a missing object");
      await assert.rejects(storage.uploadFile(storage.bucket, "files/x.bin", missing), /ENOENT.*missing\.bin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("streams a 256 MB object up and down with flat memory", async () => {
    const size = 256 * MB;
    const expected = await sha256(generated(size));
    const uploadGrowth = await peakMemoryGrowth(() => storage.putObject(storage.bucket, "big.bin", generated(size)));
    assert.equal((await storage.headObject(storage.bucket, "big.bin")).size, size);
    let downloaded = { hash: "", bytes: 0 };
    const downloadGrowth = await peakMemoryGrowth(async () => {
      downloaded = await sha256(await storage.getObject(storage.bucket, "big.bin", { stream: true }));
    });
    assert.deepEqual(downloaded, expected);
    // Holding the object would take 256 MB; streaming holds a few blocks, plus garbage V8
    // lets reach about 64 MB of buffers before it collects them.
    assert.ok(uploadGrowth < 128 * MB, `upload grew memory by ${(uploadGrowth / MB).toFixed(1)} MB`);
    assert.ok(downloadGrowth < 128 * MB, `download grew memory by ${(downloadGrowth / MB).toFixed(1)} MB`);
    await storage.deleteObject(storage.bucket, "big.bin");
  });

  it("new Storage() inside a function uses the worker's storage, which the client sees", async () => {
    const future = await fexec.callAsync(async (text: string) => {
      const { Storage } = await import("lithops-aca");
      const inWorker = new Storage();
      await inWorker.putObject(inWorker.bucket, "from-worker/note.txt", text);
      return { bucket: inWorker.bucket, keys: await inWorker.listKeys(inWorker.bucket, "from-worker/") };
    }, "written in a worker");
    assert.deepEqual(await future.result(), { bucket: storage.bucket, keys: ["from-worker/note.txt"] });
    assert.equal((await storage.getObject(storage.bucket, "from-worker/note.txt")).toString(), "written in a worker");
  });

  it("new Storage() on its own, on the local backend, is the data folder's storage the executor uses", async () => {
    await storage.putObject(storage.bucket, "shared/by-executor.txt", "put through the executor's Storage");
    await using own = new Storage();
    assert.equal(own.bucket, storage.bucket);
    assert.equal((await own.getObject(own.bucket, "shared/by-executor.txt")).toString(), "put through the executor's Storage");
  });
});
