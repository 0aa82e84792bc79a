import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { QueueClient, type QueueSendMessageOptions } from "@azure/storage-queue";
import type { ResponseFuture } from "../../client/index.ts";
import type { LocalBackend } from "../../local/local-backend.ts";
import { connectStorage } from "../../azure/storage-connection.ts";
import { runtimePrefix } from "../../protocol/keys.ts";
import { attachSignature, detachSignature } from "../../protocol/signing.ts";
import { suiteExecutor } from "../support/executor.ts";

/**
 * A queue message the worker refuses (wrong signing key, a field the schema rejects) must
 * fail the futures waiting on its calls, with the worker's reason, instead of leaving them
 * waiting forever. The client would refuse such options itself, so the bad messages are
 * made on their way to the queue: the client submits a good call and holds its future,
 * and the message it sends is rewritten before it reaches the queue.
 */
const FAIL_WITHIN_MS = 10_000;

/** Runs `submit` with every queue message the client sends rewritten by `rewrite`. */
async function sendRewritten<T>(submit: () => Promise<T>, rewrite: (text: string) => string): Promise<T> {
  const original = QueueClient.prototype.sendMessage;
  QueueClient.prototype.sendMessage = function (this: QueueClient, text: string, options?: QueueSendMessageOptions) {
    return original.call(this, rewrite(text), options);
  };
  try {
    return await submit();
  } finally {
    QueueClient.prototype.sendMessage = original;
  }
}

/** The message's text as signed, edited by `edit`, signed again with `key`. */
function resigned(text: string, key: string, edit: (unsigned: string) => string = (unsigned) => unsigned): string {
  const signed = detachSignature(text);
  assert.ok(signed, "the local backend signs its messages");
  return attachSignature(edit(signed.unsigned), key);
}

describe("messages the worker rejects fail the futures waiting on them", () => {
  const executor = suiteExecutor({ maxWorkers: 1 });

  /** The reasons of the rejections recorded under the runtime's rejected/ prefix. */
  /** Whether a rejection matching `pattern` is recorded under rejected/ within 5 s (the record is written beside the failed outcome, not before it). */
  async function recordedEventually(pattern: RegExp): Promise<boolean> {
    for (const deadline = Date.now() + 5000; ; await new Promise((resolve) => setTimeout(resolve, 200))) {
      if ((await recordedReasons()).some((reason) => pattern.test(reason))) return true;
      if (Date.now() > deadline) return false;
    }
  }

  async function recordedReasons(): Promise<string[]> {
    const fexec = executor();
    const backend = (await fexec.backend()) as LocalBackend;
    const target = await backend.prepareRuntime(fexec.config.runtime, fexec.config.runtimeMemory);
    const { container } = connectStorage(backend.storage);
    const reasons: string[] = [];
    for await (const blob of container.listBlobsFlat({ prefix: `${runtimePrefix(target.queue)}rejected/` })) {
      reasons.push((JSON.parse((await container.getBlockBlobClient(blob.name).downloadToBuffer()).toString()) as { reason: string }).reason);
    }
    return reasons;
  }

  /** Submits a call whose message is rewritten on its way; returns how the future failed and how long that took. */
  async function rejectedCall(rewrite: (text: string, signingKey: string) => string): Promise<{ error: Error; elapsedMs: number; future: ResponseFuture }> {
    const fexec = executor();
    const backend = (await fexec.backend()) as LocalBackend;
    const started = Date.now();
    const future = await sendRewritten(
      () => fexec.callAsync((x: number) => x + 1, 1, { timeout: 5 }),
      (text) => rewrite(text, backend.signingKey!),
    );
    const error = await fexec.getResult(future, { timeout: 30 }).then(
      (value) => assert.fail(`the call returned ${String(value)}`),
      (thrown: Error) => thrown,
    );
    return { error, elapsedMs: Date.now() - started, future };
  }

  it("a message signed with another key: MessageRejectedError naming the signature, within 10 s", async (t) => {
    const { error, elapsedMs, future } = await rejectedCall((text) => resigned(text, randomBytes(32).toString("base64url")));
    assert.equal(error.name, "MessageRejectedError");
    assert.match(error.message, /signature does not match/);
    assert.equal(future.status, "error");
    assert.ok(elapsedMs < FAIL_WITHIN_MS, `failed after ${elapsedMs} ms`);
    assert.ok(await recordedEventually(/signature does not match/), "still recorded under rejected/");
    t.diagnostic(`foreign-key message: future failed after ${elapsedMs} ms: ${error.message}`);
  });

  it("a message with timeout 0: MessageRejectedError naming the timeout field, within 10 s", async (t) => {
    const { error, elapsedMs } = await rejectedCall((text, key) => resigned(text, key, (unsigned) => unsigned.replace(/"timeout":[0-9.]+/, '"timeout":0')));
    assert.equal(error.name, "MessageRejectedError");
    assert.match(error.message, /timeout: Too small/);
    assert.ok(elapsedMs < FAIL_WITHIN_MS, `failed after ${elapsedMs} ms`);
    assert.ok(await recordedEventually(/timeout: Too small/), "still recorded under rejected/");
    t.diagnostic(`timeout-0 message: future failed after ${elapsedMs} ms: ${error.message}`);
  });
});
