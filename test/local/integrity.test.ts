import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { LithopsError, MessageRejectedError, RemoteCallError, type FunctionExecutor } from "../../client/index.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { connectStorage, type StorageClients } from "../../azure/storage-connection.ts";
import { OutputIntegrityError } from "../../protocol/errors.ts";
import { functionKey, outputKey } from "../../protocol/keys.ts";
import { encodeCompact } from "../../protocol/data-codec.ts";
import { decodeBatchOutput, encodeBatchOutput, MAX_CALL_LOG_BYTES, type BatchOutput } from "../../protocol/output.ts";
import { PROTOCOL_VERSION } from "../../protocol/version.ts";
import { testExecutor } from "../support/executor.ts";

/**
 * Write access to a job's blobs is not enough to run code or to feed a client results:
 * blobs a message points at carry their SHA-256 in the signed message, and batch outputs a
 * MAC. Both attacks run as the same user with the real storage key, as another principal
 * with blob write access on Azure would.
 */
describe("integrity of the blobs a signed message references and of batch outputs", () => {
  let fexec: FunctionExecutor;
  let clients: StorageClients;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "lithops-integrity-"));
    fexec = testExecutor({ maxWorkers: 1 });
    clients = connectStorage(((await fexec.backend()) as LocalBackend).storage);
  });
  after(async () => {
    await fexec.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("a queued call whose function blob was overwritten (same length) is refused by the worker with a clear error; nothing runs", async () => {
    // Keeps the only worker slot busy while the victim's call waits in the queue.
    const busy = await fexec.callAsync(() => new Promise((resolve) => setTimeout(() => resolve("done"), 4000)), null);
    const padding = "x".repeat(20_000); // above the inline limit: the function travels as a blob
    const victim = await fexec.callAsync((n: number) => (padding.length > 0 ? n + 1 : 0), 1);
    const key = functionKey(victim.executorId, victim.jobId);
    const original = await clients.container.getBlockBlobClient(key).downloadToBuffer();
    const marker = join(dir, "evil-ran");
    const evil = `exports.handler = () => require("node:fs").writeFileSync(${JSON.stringify(marker)}, "ran");`;
    const forged = Buffer.from(evil.padEnd(original.length, " "));
    assert.equal(forged.length, original.length);
    await clients.container.getBlockBlobClient(key).uploadData(forged);
    assert.equal(await busy.result(), "done");
    await assert.rejects(victim.result(), (error: unknown) => {
      assert.ok(error instanceof MessageRejectedError && error instanceof LithopsError, String(error));
      assert.match(error.message, new RegExp(`function blob ${key} .*has SHA-256 .*not the .* its signed message names`));
      return true;
    });
    assert.equal(existsSync(marker), false, "the overwritten function ran");
  });

  it("a shipped function sees a call key in place of the stack's signing key, and no worker's initial environment holds the key", async () => {
    const stackKey = ((await fexec.backend()) as LocalBackend).signingKey!;
    const seen = (await fexec.getResult(await fexec.callAsync(() => process.env.LITHOPS_SIGNING_KEY ?? "", null))) as string;
    assert.match(seen, /^lithops-call-key\.v1\./);
    assert.ok(!seen.includes(stackKey), "the call's environment holds the stack's key");
    // Every local worker gets its variables over IPC (local/worker-scaler.ts's WaitingWorker), not in the
    // environment it starts with, which /proc/self/environ shows: the spare started beside Azurite and the others.
    const two = testExecutor({ maxWorkers: 2 });
    try {
      const key = ((await two.backend()) as LocalBackend).signingKey!;
      const environs = (await two.getResult(
        await two.map(
          async () => {
            await new Promise((resolve) => setTimeout(resolve, 400));
            return { pid: process.pid, environ: require("node:fs").readFileSync("/proc/self/environ", "latin1") as string };
          },
          [1, 2, 3, 4, 5, 6],
          { chunksize: 1 },
        ),
      )) as { pid: number; environ: string }[];
      assert.equal(new Set(environs.map((e) => e.pid)).size, 2, "both workers ran calls");
      for (const { environ } of environs) {
        assert.ok(environ.includes("LITHOPS_ENV_FROM_PARENT=1"), "read the worker process's initial environment");
        assert.ok(!environ.includes(key), "a worker's /proc/self/environ holds the signing key");
      }
    } finally {
      await two.close();
    }
  });

  it("a call's printout reaches the worker's log capped like its stored output", async () => {
    const line = "y".repeat(1023);
    await fexec.getResult(
      await fexec.callAsync((text: string) => {
        for (let i = 0; i < 1024; i += 1) (i % 2 === 0 ? console.log : console.error)(text); // 1 MiB, half of it to stderr
      }, line),
    );
    const log = readFileSync(((await fexec.backend()) as LocalBackend).workerLogPath, "utf8");
    const passed = log.split("\n").filter((l) => l === line).length;
    assert.ok(passed > 0 && passed * 1024 <= MAX_CALL_LOG_BYTES + 1024, `${passed} KiB of the call's 1 MiB printout reached the worker's log`);
  });

  it("a batch output overwritten in storage is refused by the client before it is deserialized", async () => {
    const future = await fexec.callAsync((n: number) => n * 2, 21);
    assert.equal(await future.result(), 42);
    const key = outputKey(future.executorId, future.jobId, 0);
    const genuine = decodeBatchOutput(await clients.container.getBlockBlobClient(key).downloadToBuffer(), undefined, key);
    const call = genuine.calls[0]!;
    assert.ok(call.ok);
    const lie = { ...genuine, calls: [{ ...call, result: Buffer.from("666") }] };
    const reader = testExecutor();
    try {
      for (const forged of [encodeBatchOutput(lie, undefined, undefined), encodeBatchOutput(lie, "a-key-the-attacker-made-up-0123456789", undefined)]) {
        await clients.container.getBlockBlobClient(key).uploadData(forged);
        const [attached] = await reader.attach(future.executorId, [future.jobId]);
        await assert.rejects(
          attached!.result(),
          (error: unknown) => error instanceof OutputIntegrityError && error instanceof LithopsError && error.message.includes(key),
        );
      }
    } finally {
      await reader.close();
    }
  });
});

/**
 * A reducer reads its map calls' outputs itself, in a worker's call thread that holds no key
 * able to check them: the worker's main thread checks their MACs for it. The attack: write
 * a map batch's output, as the same user with the real storage key, before the reducer reads
 * it. One map call waits for a file this test writes, so its batch's output is forged while
 * the call still runs and the reducer waits for it: the reducer can only read the forgery.
 */
describe("integrity of the map outputs a reducer reads", () => {
  let fexec: FunctionExecutor;
  let clients: StorageClients;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "lithops-integrity-reduce-"));
    // Two workers: the held map call keeps one slot, the other map and the reducer (which gives its slot back while it waits) share the other.
    fexec = testExecutor({ maxWorkers: 2 });
    clients = connectStorage(((await fexec.backend()) as LocalBackend).storage);
  });
  after(async () => {
    await fexec.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function untilExists(path: string): Promise<void> {
    for (let waited = 0; !existsSync(path); waited += 50) {
      if (waited > 60_000) throw new Error(`${path} did not appear within 60 s`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Until the output at `key` is one the stack's key authenticates (its worker wrote it). */
  async function untilGenuine(key: string): Promise<void> {
    const stackKey = ((await fexec.backend()) as LocalBackend).signingKey;
    for (let waited = 0; ; waited += 50) {
      try {
        decodeBatchOutput(await clients.container.getBlockBlobClient(key).downloadToBuffer(), stackKey, key);
        return;
      } catch (error) {
        if (!(error instanceof OutputIntegrityError) || waited > 60_000) throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  it("a map output forged before the reducer reads it (no MAC, or a MAC made with another key) fails the reducer with MapOutputIntegrityError", async () => {
    for (const [variant, forgerKey] of [
      ["unmaced", undefined],
      ["foreign-key", "a-key-the-attacker-made-up-0123456789"],
    ] as const) {
      const started = join(dir, `${variant}-started`);
      const release = join(dir, `${variant}-release`);
      const fs = await fexec.mapReduce(
        async (n: number) => {
          if (n === 1) {
            const { existsSync: exists, writeFileSync } = await import("node:fs");
            writeFileSync(started, "");
            while (!exists(release)) await new Promise((resolve) => setTimeout(resolve, 50));
          }
          return n * 10;
        },
        [0, 1],
        (values: number[]) => values,
        { spawnReducer: 0, chunksize: 1 },
      );
      const held = fs[1]!;
      const reducer = fs.at(-1)!;
      await untilExists(started);
      const key = outputKey(held.executorId, held.jobId, held.stats.batch);
      const forged: BatchOutput = {
        v: PROTOCOL_VERSION,
        executorId: held.executorId,
        jobId: held.jobId,
        batch: held.stats.batch,
        workerId: "forger",
        storageOps: 0,
        calls: [
          {
            callId: held.callId,
            ok: true,
            result: encodeCompact(666, "forged result"),
            stats: { started: 0, finished: 0, workerId: "forger", attempt: 1, resultBytes: 3 },
          },
        ],
      };
      await clients.container.getBlockBlobClient(key).uploadData(encodeBatchOutput(forged, forgerKey, undefined));
      // Another client follows the reducer alone: this one would read (and refuse) the forgery itself while it waits.
      const reader = testExecutor();
      try {
        const [attached] = await reader.attach(reducer.executorId, [reducer.jobId]);
        await assert.rejects(attached!.result(), (error: unknown) => {
          assert.ok(error instanceof RemoteCallError && error instanceof LithopsError, String(error));
          assert.equal(error.name, "MapOutputIntegrityError");
          assert.ok(error.message.includes(key), error.message);
          assert.match(error.message, forgerKey === undefined ? /is not MACed/ : /does not carry a valid MAC .*altered/);
          return true;
        });
      } finally {
        writeFileSync(release, "");
        await reader.close();
      }
      // The held call goes on and writes its genuine output over the forgery.
      await untilGenuine(key);
      assert.equal(await held.result(), 10);
    }
  });

  it("untouched map outputs are read: a mapReduce, and one a running call submits (its maps MACed with its call key), give the right values", async () => {
    const fs = await fexec.mapReduce(
      (n: number) => n * n,
      [1, 2, 3, 4],
      (squares: number[]) => squares.reduce((a, b) => a + b, 0),
      { spawnReducer: 0 },
    );
    assert.equal(await fexec.getResult(fs), 30);
    const nested = await fexec.callAsync(async (n: number) => {
      const { FunctionExecutor } = await import("lithops-aca");
      const inner = new FunctionExecutor();
      try {
        await inner.mapReduce(
          (x: number) => x + n,
          [1, 2, 3],
          (values: number[]) => values.join(","),
          { spawnReducer: 0 },
        );
        return await inner.getResult();
      } finally {
        await inner.close();
      }
    }, 100);
    assert.equal(await fexec.getResult(nested), "101,102,103");
  });
});
