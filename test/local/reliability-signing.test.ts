import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { FunctionExecutor } from "../../client/index.ts";
import { callArguments } from "../../client/args.ts";
import { batchCalls } from "../../client/call-batches.ts";
import { shipFunction } from "../../client/ship-function.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import type { RuntimeTarget } from "../../runtime-model/backend.ts";
import { encodeValue } from "../../protocol/data-codec.ts";
import { outputKey, runtimePrefix } from "../../protocol/keys.ts";
import { decodeBatchOutput } from "../../protocol/output.ts";
import { attachSignature, callKeyToken, detachSignature } from "../../protocol/signing.ts";
import { connectStorage, type StorageClients } from "../../azure/storage-connection.ts";
import { testExecutor } from "../support/executor.ts";

/**
 * Hostile invocations on the local backend, which (like a stack on Azure) only runs
 * messages signed with its key. Each hostile message would append a line to a file of its
 * own if it ran; the proof that nothing ran is that the file does not exist (or, for the
 * replay, still holds the one line of the legitimate run), and that no output was stored.
 */
describe("signed invocations: unsigned, tampered, foreign, replayed and expired messages run nothing", () => {
  let fexec: FunctionExecutor;
  let backend: LocalBackend;
  let clients: StorageClients;
  let target: RuntimeTarget;
  let dir: string;
  let functionText: string;

  // Appends one line to the file it is given: running twice leaves two lines.
  const markRan = (path: string): string => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const fs = require("node:fs") as typeof import("node:fs");
    fs.appendFileSync(path, "ran\n");
    return path;
  };

  const message = (jobId: string, file: string, options: { signingKey?: string; submitted?: number; queue?: string } = {}): string => {
    const plan = batchCalls({
      executorId: "hostile",
      jobId,
      functionText,
      calls: [encodeValue(callArguments(file), "argument")],
      parallelism: 1,
      timeout: 10,
      queue: options.queue ?? target.queue,
      signingKey: options.signingKey,
    });
    assert.equal(plan.messages.length, 1);
    let text = plan.messages[0];
    if (options.submitted !== undefined) {
      const unsigned = detachSignature(text)?.unsigned ?? text;
      const edited = unsigned.replace(/"submitted":\d+/, `"submitted":${options.submitted}`);
      text = options.signingKey ? attachSignature(edited, options.signingKey) : edited;
    }
    return text;
  };

  /** Sends the texts, then waits until the worker recorded a rejection for each; returns the records by message id. */
  async function sendAndAwaitRejections(texts: string[]): Promise<Map<string, { reason: string }>> {
    const queue = clients.queueService.getQueueClient(target.queue);
    const ids = await Promise.all(texts.map(async (text) => (await queue.sendMessage(text)).messageId));
    backend.submitted(target, texts.length);
    const records = new Map<string, { reason: string }>();
    const deadline = Date.now() + 40_000;
    while (records.size < ids.length && Date.now() < deadline) {
      for await (const blob of clients.container.listBlobsFlat({ prefix: `${runtimePrefix(target.queue)}rejected/` })) {
        const id = ids.find((candidate) => blob.name.endsWith(`-${candidate.replace(/[^A-Za-z0-9-]/g, "")}.json`));
        if (id && !records.has(id)) {
          const body = await clients.container.getBlockBlobClient(blob.name).downloadToBuffer();
          records.set(id, JSON.parse(body.toString()) as { reason: string });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    assert.equal(records.size, ids.length, `rejections recorded for ${records.size} of ${ids.length} messages`);
    return new Map(ids.map((id, i) => [String(i), records.get(id)!]));
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), "lithops-signing-"));
    fexec = testExecutor({ maxWorkers: 1 });
    // A legitimate call first: starts the backend and proves signed messages do run.
    const f = await fexec.callAsync(markRan, join(dir, "legit"));
    assert.equal(await f.result(), join(dir, "legit"));
    backend = (await fexec.backend()) as LocalBackend;
    target = await backend.prepareRuntime(fexec.config.runtime, fexec.config.runtimeMemory);
    clients = connectStorage(backend.storage);
    functionText = await shipFunction(markRan);
  });
  after(async () => {
    await fexec.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("the local backend generated a signing key although none is configured", () => {
    assert.equal(fexec.config.signingKey, undefined);
    assert.ok((backend.signingKey ?? "").length >= 32);
    assert.equal(readFileSync(join(dir, "legit"), "utf8"), "ran\n");
  });

  it("rejects and records unsigned, tampered, foreign-key, expired, out-of-prefix, other-queue and expired-call-key messages; none runs", async (t) => {
    const key = backend.signingKey!;
    const signed = message("J001", join(dir, "tampered"), { signingKey: key });
    // One changed byte inside the (base64) call data: still valid JSON and a valid message, but not what was signed.
    const at = signed.indexOf('"data":{"inline":"') + '"data":{"inline":"'.length + 2;
    const tampered = `${signed.slice(0, at)}${signed[at] === "A" ? "B" : "A"}${signed.slice(at + 1)}`;
    assert.notEqual(tampered, signed);
    const outside = attachSignature(
      detachSignature(message("J005", join(dir, "outside"), { signingKey: key }))!.unsigned.replace(
        /"data":\{"inline":"[^"]*"\}/,
        `"data":{"key":"lithops.jobs/other/M000/data.bin","start":0,"end":10,"sha256":"${"A".repeat(43)}"}`,
      ),
      key,
    );
    const texts = [
      message("J000", join(dir, "unsigned")),
      tampered,
      message("J002", join(dir, "foreign"), { signingKey: randomBytes(32).toString("base64url") }),
      message("J003", join(dir, "expired"), { signingKey: key, submitted: Date.now() - 8 * 24 * 3600 * 1000 }),
      outside,
      message("J006", join(dir, "cross-queue"), { signingKey: key, queue: `${target.queue}x` }),
      message("J007", join(dir, "expired-call-key"), { signingKey: callKeyToken(key, { e: "hostile", j: "J000", b: 0, x: Date.now() - 1000 }) }),
    ];
    const records = await sendAndAwaitRejections(texts);
    assert.match(records.get("0")!.reason, /not signed/);
    assert.match(records.get("1")!.reason, /signature does not match/);
    assert.match(records.get("2")!.reason, /signature does not match/);
    assert.match(records.get("3")!.reason, /longer ago than a queue keeps messages/);
    assert.match(records.get("4")!.reason, /outside its job's prefix/);
    assert.match(records.get("5")!.reason, /is for queue \S+x, not this runtime's queue/);
    assert.match(records.get("6")!.reason, /call key of hostile\/J000 batch 0, which expired/);
    for (const name of ["unsigned", "tampered", "foreign", "expired", "outside", "cross-queue", "expired-call-key"]) {
      assert.equal(existsSync(join(dir, name)), false, `the ${name} message ran its function`);
    }
    // Each names its batch, so its calls fail with the reason instead of keeping their futures waiting.
    for (const [i, jobId] of ["J000", "J001", "J002", "J003", "J005", "J006", "J007"].entries()) {
      const stored = outputKey("hostile", jobId, 0);
      const output = decodeBatchOutput(await clients.container.getBlockBlobClient(stored).downloadToBuffer(), key, stored);
      assert.deepEqual(
        output.calls.map((call) => (call.ok ? "ran" : [call.error.name, call.error.message.endsWith(records.get(String(i))!.reason)])),
        [["MessageRejectedError", true]],
        `job ${jobId}`,
      );
    }
    const left = await clients.queueService.getQueueClient(target.queue).peekMessages({ numberOfMessages: 32 });
    assert.equal(left.peekedMessageItems.length, 0, "rejected messages are deleted, not left to block the queue");
    t.diagnostic(
      `calls run 0 of ${texts.length} hostile messages (unsigned, tampered by one byte, foreign key, expired, out of prefix, other queue, expired call key): ${records.size} rejected and recorded`,
    );
  });

  it("a replayed message is recorded and not run again, even after its job's data was cleaned", async (t) => {
    const file = join(dir, "replayed");
    const text = message("J004", file, { signingKey: backend.signingKey });
    const queue = clients.queueService.getQueueClient(target.queue);
    await queue.sendMessage(text);
    backend.submitted(target, 1);
    const output = clients.container.getBlockBlobClient(outputKey("hostile", "J004", 0));
    const deadline = Date.now() + 30_000;
    while (!(await output.exists()) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(readFileSync(file, "utf8"), "ran\n", "the original message ran once");
    const records = await sendAndAwaitRejections([text]);
    assert.match(records.get("0")!.reason, /replayed: a copy of this message \(batch 0 of job hostile\/J004\) was delivered before/);
    assert.equal(readFileSync(file, "utf8"), "ran\n", "the replay did not run the function again");
    const kept = decodeBatchOutput(await output.downloadToBuffer(), backend.signingKey, output.name);
    assert.deepEqual(
      kept.calls.map((call) => call.ok),
      [true],
      "the batch keeps its outcome: the rejection does not replace it",
    );
    // Cleaning the job removes its output: the delivery marker, outside the job's data, still refuses the replay.
    for await (const blob of clients.container.listBlobsFlat({ prefix: "lithops.jobs/hostile/J004/" })) await clients.container.deleteBlob(blob.name);
    const afterClean = await sendAndAwaitRejections([text]);
    assert.match(afterClean.get("0")!.reason, /replayed/);
    assert.equal(readFileSync(file, "utf8"), "ran\n", "the replay after cleaning did not run the function again");
    t.diagnostic(
      "calls run 1 of 1 genuine message sent three times (twice after it ran, once after its job was cleaned): the replays were rejected and recorded",
    );
  });
});
