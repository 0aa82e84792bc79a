import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  CallExitedError,
  CallTimeoutError,
  MessageRejectedError,
  OutOfMemoryError,
  PoisonCallError,
  RemoteCallError,
  UnserializableResultError,
} from "../../client/errors.ts";
import { remoteCallError } from "../../client/remote-error.ts";
import { REMOTE_ERROR_NAMES } from "../../protocol/errors.ts";

describe("remoteCallError: the client-side class of a failed call", () => {
  it("each failure the worker names has its own subclass of RemoteCallError", () => {
    const expected = new Map<string, unknown>([
      [REMOTE_ERROR_NAMES.timeout, CallTimeoutError],
      [REMOTE_ERROR_NAMES.outOfMemory, OutOfMemoryError],
      [REMOTE_ERROR_NAMES.exited, CallExitedError],
      [REMOTE_ERROR_NAMES.poisonCall, PoisonCallError],
      [REMOTE_ERROR_NAMES.poisonMessage, PoisonCallError],
      [REMOTE_ERROR_NAMES.messageRejected, MessageRejectedError],
      [REMOTE_ERROR_NAMES.unserializable, UnserializableResultError],
    ]);
    for (const [name, errorClass] of expected) {
      const error = remoteCallError({ name, message: "m" }, "M000", "00001");
      assert.equal(error.constructor, errorClass, name);
      assert.ok(error instanceof RemoteCallError);
    }
  });

  it("what the function threw itself stays a RemoteCallError with its name, message, stack and ids", () => {
    const error = remoteCallError({ name: "TypeError", message: "x is not a function", stack: "TypeError: x\n    at f" }, "M001", "00002");
    assert.equal(error.constructor, RemoteCallError);
    assert.deepEqual(
      [error.name, error.message, error.remoteStack, error.jobId, error.callId],
      ["TypeError", "x is not a function", "TypeError: x\n    at f", "M001", "00002"],
    );
  });
});
