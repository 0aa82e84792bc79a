import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createGzip } from "node:zlib";
import {
  ConfigError,
  RemoteCallError,
  UnserializableValueError,
  UnshippableFunctionError,
  type FunctionExecutor,
  type ResponseFuture,
} from "../../client/index.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { jobPrefix, outputPrefix, runtimePrefix } from "../../protocol/keys.ts";
import { decodeBatchOutput, type BatchOutput } from "../../protocol/output.ts";
import { connectStorage, downloadBytes, type StorageClients } from "../../azure/storage-connection.ts";
import { testExecutor } from "../support/executor.ts";
import { childProcesses, isAlive, portRefusesConnections } from "../support/processes.ts";

/** Polls `probe` until it returns a value, or fails naming what did not happen. */
async function waitFor<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) assert.fail(`${what}: not seen within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A failed call's error, as getResult(throwExcept: false) returns it. */
async function callError(future: ResponseFuture): Promise<RemoteCallError> {
  const error = await future.result({ throwExcept: false, timeout: 60 });
  assert.ok(error instanceof RemoteCallError, `expected the call to fail, it returned ${String(error)}`);
  return error;
}

describe("local backend: bad input gives clear errors and loses nothing", () => {
  let fexec: FunctionExecutor;
  let backend: LocalBackend;
  let storage: StorageClients;
  // One worker process, kept through the whole file (long cooldown): "the worker survives"
  // then means the same pid serves the next call. A 2 s visibility timeout makes a killed
  // worker's call visible again quickly.
  const workerPid = async (): Promise<number> => (await (await fexec.callAsync(() => process.pid, null)).result({ timeout: 60 })) as number;
  /** What a refused submit must leave unchanged: nothing sent to storage, no future created. */
  const submitted = () => ({ storageRequests: fexec.storageOperations().client, futures: fexec.allFutures().length });

  before(async () => {
    fexec = testExecutor({ maxWorkers: 1, config: { local: { visibility_timeout: 2, cooldown: 120 } } });
    backend = (await fexec.backend()) as LocalBackend;
    storage = connectStorage(backend.storage);
    await workerPid();
  });
  after(async () => {
    await fexec.close();
  });

  it("refuses memory not in the table in the executor's and in map's options, naming it", async () => {
    assert.throws(
      () => testExecutor({ runtimeMemory: 1000 }),
      (error: unknown) => error instanceof ConfigError && /new FunctionExecutor: runtimeMemory: 1000 MB .*512, 1024, 1536, 2048/.test(error.message),
    );
    const before = submitted();
    await assert.rejects(
      fexec.map((x: number) => x, [1], { runtimeMemory: 1000 }),
      (error: unknown) => error instanceof ConfigError && /runtimeMemory: 1000 MB .*512, 1024/.test(error.message),
    );
    assert.deepEqual(submitted(), before);
  });

  it("refuses a function that captures a socket at submit time, before anything is queued", async () => {
    const socket = new Socket();
    const before = submitted();
    await assert.rejects(
      fexec.callAsync(() => socket.remoteAddress, null),
      (error: unknown) => error instanceof UnshippableFunctionError && /captures `socket`, a Socket/.test(error.message),
    );
    assert.deepEqual(submitted(), before);
    socket.destroy();
  });

  it("refuses functions that capture objects with native state (zlib stream, hash), directly or inside an instance", async () => {
    const gzip = createGzip();
    const hash = createHash("sha256");
    class Compressor {
      readonly stream = createGzip();
      compress(text: string): boolean {
        return this.stream.write(text);
      }
    }
    const compressor = new Compressor();
    const before = submitted();
    await assert.rejects(
      fexec.map((text: string) => gzip.write(text), ["a"]),
      (error: unknown) => error instanceof UnshippableFunctionError && /captures `gzip`, a Gzip/.test(error.message),
    );
    await assert.rejects(
      fexec.callAsync((text: string) => hash.update(text).digest("hex"), "a"),
      /captures `hash`, a Hash/,
    );
    await assert.rejects(
      fexec.callAsync((text: string) => compressor.compress(text), "a"),
      /captures `compressor\.stream`, a Gzip/,
    );
    assert.deepEqual(submitted(), before);
    gzip.destroy();
    compressor.stream.destroy();
  });

  it("still ships a plain class instance", async () => {
    class Scaler {
      constructor(readonly factor: number) {}
      apply(x: number): number {
        return x * this.factor;
      }
    }
    const scaler = new Scaler(3);
    const f = await fexec.callAsync((x: number) => scaler.apply(x), 14);
    assert.equal(await f.result({ timeout: 60 }), 42);
  });

  it("refuses an argument that cannot be serialized, naming which call", async () => {
    const before = submitted();
    await assert.rejects(
      fexec.map((x: unknown) => x, [1, 2, () => 3]),
      (error: unknown) => error instanceof UnserializableValueError && /^the argument of call 2 cannot be serialized/.test(error.message),
    );
    await assert.rejects(
      fexec.callAsync((x: unknown) => x, { onDone: () => 1 }),
      /the argument of call 0 cannot be serialized/,
    );
    await assert.rejects(
      fexec.map((x: unknown) => x, [1], { extraArgs: [Symbol("s")] }),
      /the argument of call 0 cannot be serialized/,
    );
    assert.deepEqual(submitted(), before);
  });

  it("sends arguments of 200 KB and 5 MB and a 5 MB result through blob storage", async () => {
    const sizes = [200_000, 5_000_000];
    const fs = await fexec.map(
      (bytes: Uint8Array) => {
        let sum = 0;
        for (const byte of bytes) sum += byte;
        return { length: bytes.length, sum };
      },
      sizes.map((size) => Buffer.alloc(size, 3)),
    );
    assert.deepEqual(
      await fexec.getResult(fs, { timeout: 60 }),
      sizes.map((size) => ({ length: size, sum: size * 3 })),
    );
    const keys: string[] = [];
    for await (const blob of storage.container.listBlobsFlat({ prefix: jobPrefix(fexec.executorId, fs[0].jobId) })) keys.push(blob.name);
    assert.ok(
      keys.some((key) => key.endsWith("/data.bin")),
      `no data blob among ${keys.join(", ")}`,
    );

    const big = await fexec.callAsync((size: number) => Buffer.alloc(size, 7), 5_000_000);
    const result = Buffer.from((await big.result({ timeout: 60 })) as Uint8Array);
    assert.equal(result.length, 5_000_000);
    assert.ok(result.every((byte) => byte === 7));
    assert.equal(big.stats.resultBytes !== undefined && big.stats.resultBytes > 5_000_000, true);
  });

  it("records a malformed and a foreign queue message as rejected and keeps serving calls", async () => {
    const target = await backend.prepareRuntime(fexec.config.runtime, fexec.config.runtimeMemory);
    const queue = storage.queueService.getQueueClient(target.queue);
    const malformed = `not a lithops message ${Date.now()}`;
    const foreign = JSON.stringify({ event: "order.created", orderId: Date.now() });
    await queue.sendMessage(malformed);
    await queue.sendMessage(foreign);

    const f = await fexec.callAsync((x: number) => x * 3, 14);
    assert.equal(await f.result({ timeout: 60 }), 42);

    const rejectedPrefix = `${runtimePrefix(target.queue)}rejected/`;
    const records = await waitFor("two rejected-message records", async () => {
      const found: { reason: string; text: string }[] = [];
      for await (const blob of storage.container.listBlobsFlat({ prefix: rejectedPrefix })) {
        found.push(JSON.parse((await downloadBytes(storage.container, blob.name)).toString("utf8")) as { reason: string; text: string });
      }
      return found.length >= 2 ? found : undefined;
    });
    const malformedRecord = records.find((r) => r.text === malformed);
    const foreignRecord = records.find((r) => r.text === foreign);
    assert.ok(malformedRecord && foreignRecord, `records: ${JSON.stringify(records)}`);
    assert.match(malformedRecord.reason, /message is not JSON \(starts with "not a lithops message/);
    assert.match(foreignRecord.reason, /does not match protocol v\d+: .*kind/);
    assert.equal(await (await fexec.callAsync((x: number) => x + 1, 1)).result({ timeout: 60 }), 2);
  });

  it("fails a call that exceeds its timeout with TimeoutError; the next call succeeds", async () => {
    const f = await fexec.callAsync(
      () => {
        for (;;); // never returns: only the worker's timeout can end it
      },
      null,
      { timeout: 1 },
    );
    const error = await callError(f);
    assert.equal(error.name, "TimeoutError");
    assert.match(error.message, /did not finish within its timeout of 1 s/);
    assert.ok(f.stats.finished !== undefined && f.stats.started !== undefined && f.stats.finished - f.stats.started >= 1000);
    assert.equal(await (await fexec.callAsync((x: number) => x + 1, 41)).result({ timeout: 60 }), 42);
  });

  it("reports a call that runs out of memory as that call's failure; the worker survives", async () => {
    const pid = await workerPid();
    const f = await fexec.callAsync(() => {
      const hog: number[][] = [];
      for (;;) hog.push(new Array<number>(1_000_000).fill(1));
    }, null);
    const error = await callError(f);
    assert.equal(error.name, "OutOfMemoryError");
    // Whichever limit catches the loop first: the call thread's heap limit, or the pool's watch of
    // the process's resident memory (worker/thread-pool.ts); either names the limit.
    assert.match(error.message, /ran out of memory \(limit \d+ MB per call|of resident memory, over runtime_memory \d+ MB/);
    assert.equal(await workerPid(), pid);
  });

  it("reports process.exit() inside a call; the worker survives", async () => {
    const pid = await workerPid();
    const error = await callError(await fexec.callAsync(() => process.exit(3), null));
    assert.equal(error.name, "CallExitedError");
    assert.match(error.message, /exit code 3/);
    assert.equal(await workerPid(), pid);
  });

  it("completes a call exactly once when its worker is killed with SIGKILL mid-call", async () => {
    const dir = mkdtempSync(join(tmpdir(), "lithops-kill-test-"));
    const log = join(dir, "calls.log");
    try {
      const f = await fexec.callAsync(async (x: number) => {
        const fs = await import("node:fs");
        fs.appendFileSync(log, "started\n");
        await new Promise((resolve) => setTimeout(resolve, 3000));
        fs.appendFileSync(log, "finished\n");
        return x * 2;
      }, 21);
      await waitFor("the call to start", () => (existsSync(log) ? true : undefined));
      const victims = backend.runningWorkers();
      assert.ok(victims.length > 0);
      for (const pid of victims) process.kill(pid, "SIGKILL");

      assert.equal(await f.result({ timeout: 60 }), 42);
      assert.equal(f.stats.attempt, 2);
      assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), ["started", "started", "finished"]);
      for (const pid of victims) assert.equal(isAlive(pid), false, `killed worker ${pid} is still alive`);

      // One stored outcome for the one call: the batch document of the second delivery.
      const outputs: BatchOutput[] = [];
      for await (const blob of storage.container.listBlobsFlat({ prefix: outputPrefix(fexec.executorId, f.jobId) })) {
        outputs.push(decodeBatchOutput(await downloadBytes(storage.container, blob.name), undefined, blob.name));
      }
      assert.equal(outputs.length, 1);
      assert.deepEqual(
        outputs[0].calls.map((c) => [c.callId, c.ok, c.stats.attempt]),
        [[f.callId, true, 2]],
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("close() stops every worker process and Azurite within seconds", async () => {
    const workers = backend.runningWorkers();
    assert.ok(workers.length > 0, "expected a running worker before close()");
    // Other children (tsx's esbuild service) are not the backend's.
    const children = childProcesses(process.pid).filter((c) => /azurite|worker[/\\]main\.ts/.test(c.command));
    const blobPort = backend.azuriteEndpoints?.blobPort;
    assert.ok(blobPort);
    const started = Date.now();
    await fexec.close();
    assert.ok(Date.now() - started < 15_000, `close() took ${Date.now() - started} ms`);
    for (const pid of [...workers, ...children.map((c) => c.pid)]) {
      assert.equal(isAlive(pid), false, `process ${pid} is alive after close(): ${children.find((c) => c.pid === pid)?.command ?? "worker"}`);
    }
    if (process.platform === "linux")
      assert.ok(
        children.some((c) => c.command.includes("azurite")),
        "Azurite was not among the child processes",
      );
    assert.equal(await portRefusesConnections(blobPort), true);
  });
});
