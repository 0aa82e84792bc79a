import { join } from "node:path";
import { parentPort } from "node:worker_threads";
import { ENV } from "../protocol/env.ts";
import { decodeValue, describeThrown, encodeCompact } from "../protocol/data-codec.ts";
import { reviveArguments, transferableResult } from "./call-refs.ts";
import { loadFunction } from "./load-function.ts";
import type { ThreadReply, ThreadRequest } from "./thread-messages.ts";

/**
 * Runs inside a worker thread: one call at a time, so a call that loops forever or runs
 * out of memory can be stopped by terminating this thread alone.
 */
const port = parentPort;
if (!port) throw new Error("call-thread must run in a worker thread");

// Shipped functions resolve packages as a file in this folder would: the user's project locally, the image's WORKDIR on Azure.
const functionDir = process.env[ENV.functionDir] || process.cwd();
const handlers = new Map<string, (...args: unknown[]) => unknown>();

async function runCall(funcId: string, argBytes: Uint8Array): Promise<{ ok: true; result: Uint8Array } | { ok: false; error: ReturnType<typeof describeThrown> }> {
  try {
    const handler = handlers.get(funcId);
    if (!handler) throw new Error(`function ${funcId} was not loaded in this thread`);
    const positional = await reviveArguments(decodeValue(argBytes) as unknown[]);
    const value = await handler(...positional);
    return { ok: true, result: encodeCompact(transferableResult(value), "the call's return value") };
  } catch (thrown) {
    return { ok: false, error: describeThrown(thrown) };
  }
}

port.on("message", async (request: ThreadRequest) => {
  if (request.type === "load") {
    try {
      handlers.set(request.funcId, loadFunction(request.text, "handler", join(functionDir, `.lithops-function-${request.funcId}.cjs`)));
    } catch (thrown) {
      // Remembered as a function that throws, so every call of the job reports why it could not load.
      const error = thrown;
      handlers.set(request.funcId, () => {
        throw error;
      });
    }
    return;
  }
  const started = Date.now();
  const outcome = await runCall(request.funcId, request.args);
  const reply: ThreadReply = { type: "done", seq: request.seq, started, finished: Date.now(), ...outcome };
  port.postMessage(reply);
});
