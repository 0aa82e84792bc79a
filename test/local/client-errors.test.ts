import assert from "node:assert/strict";
import { Socket } from "node:net";
import { after, describe, it } from "node:test";
import * as client from "../../client/index.ts";
import {
  CallExitedError,
  CallTimeoutError,
  LithopsError,
  MessageRejectedError,
  OutOfMemoryError,
  PoisonCallError,
  RemoteCallError,
  UnserializableResultError,
  type FunctionExecutor,
} from "../../client/index.ts";
import { remoteCallError } from "../../client/remote-error.ts";
import { REMOTE_ERROR_NAMES } from "../../protocol/errors.ts";
import { encodeValue } from "../../protocol/data-codec.ts";
import { testExecutor } from "../support/executor.ts";

/** Every class the package's main export exposes that is an Error. */
const exportedErrorClasses = Object.entries(client as Record<string, unknown>).flatMap(([name, value]): [string, Function][] =>
  typeof value === "function" && value.prototype instanceof Error ? [[name, value]] : [],
);

describe("error classes", () => {
  it("every exported error class extends LithopsError", () => {
    const names = exportedErrorClasses.map(([name]) => name);
    // The list must hold the classes the package throws: a missing export would hide one from this check.
    for (const expected of [
      "ConfigError",
      "RemoteCallError",
      "ResultTimeoutError",
      "StorageUnavailableError",
      "JobNotFoundError",
      "RuntimeNotDeployedError",
      "UnshippableFunctionError",
      "StorageNoSuchKeyError",
      "RetriesExhaustedError",
      "UnserializableValueError",
      "InvalidMemoryError",
      "InvalidRuntimeNameError",
      "InvalidStorageNameError",
      "MalformedMessageError",
      "CallTimeoutError",
      "OutOfMemoryError",
      "CallExitedError",
      "PoisonCallError",
      "MessageRejectedError",
      "FutureNotWatchedError",
      "ExecutorClosedError",
    ]) {
      assert.ok(names.includes(expected), `${expected} is not exported`);
    }
    for (const [name, errorClass] of exportedErrorClasses) {
      if (errorClass === LithopsError) continue;
      assert.ok(errorClass.prototype instanceof LithopsError, `${name} does not extend LithopsError`);
    }
  });

  it("a remote failure becomes the subclass its worker-given name stands for, keeping that name", () => {
    const cases: [string, new (...args: never[]) => RemoteCallError][] = [
      [REMOTE_ERROR_NAMES.timeout, CallTimeoutError],
      [REMOTE_ERROR_NAMES.outOfMemory, OutOfMemoryError],
      [REMOTE_ERROR_NAMES.exited, CallExitedError],
      [REMOTE_ERROR_NAMES.poisonCall, PoisonCallError],
      [REMOTE_ERROR_NAMES.poisonMessage, PoisonCallError],
      [REMOTE_ERROR_NAMES.messageRejected, MessageRejectedError],
    ];
    for (const [name, kind] of cases) {
      const error = remoteCallError({ name, message: "m" }, "M000", "00001");
      assert.ok(error instanceof kind && error instanceof RemoteCallError && error instanceof LithopsError, `${name} -> ${error.constructor.name}`);
      assert.equal(error.name, name);
    }
    const thrown = remoteCallError({ name: "RangeError", message: "bad" }, "M000", "00001");
    assert.equal(thrown.constructor, RemoteCallError);
  });

  it("an unserializable value names what it holds and where, not an internal function's source", () => {
    assert.throws(
      () => encodeValue({ conn: new Socket() }, "the call's return value"),
      (error: Error) => /it holds, at \.conn, a socket \(Socket\)/.test(error.message) && !/function onReadableStreamEnd/.test(error.message),
    );
    assert.throws(() => encodeValue([1, function onDone() {}], "x"), /at \[1\], a function \(onDone\)/);
    assert.throws(() => encodeValue(Promise.resolve(1), "x"), /it is a Promise/);
  });
});

describe("remote failures on the local backend", () => {
  const fexec: FunctionExecutor = testExecutor();
  after(() => fexec.close());

  it("a timeout is a CallTimeoutError; a returned socket is an UnserializableResultError naming the socket and the call", async () => {
    const slow = await fexec.callAsync(() => new Promise((resolve) => setTimeout(resolve, 5000)), null, { timeout: 1 });
    const socket = await fexec.callAsync(async () => new (await import("node:net")).Socket(), null);
    const timeoutError = await slow.result({ throwExcept: false, timeout: 60 });
    assert.ok(timeoutError instanceof CallTimeoutError, String(timeoutError));
    const socketError = await socket.result({ throwExcept: false, timeout: 60 });
    assert.ok(socketError instanceof UnserializableResultError, String(socketError));
    assert.match(socketError.message, new RegExp(`^call ${socket.jobId}/${socket.callId}: .*it is a socket \\(Socket\\)`));
  });
});

describe("errors are reported once", () => {
  const fexec: FunctionExecutor = testExecutor();
  const retrying = new client.RetryingFunctionExecutor(fexec);
  after(() => fexec.close());

  it("getResult() without futures never rethrows an error it already raised", async () => {
    await fexec.callAsync(() => {
      throw new RangeError("first failure");
    }, null);
    await assert.rejects(fexec.getResult(), /first failure/);
    const later = await fexec.callAsync((x: number) => x + 1, 1);
    assert.equal(await fexec.getResult(), 2);
    assert.equal(later.retrieved, true);
    assert.deepEqual(await fexec.getResult(), []);
  });

  it("futures RetryingFunctionExecutor replaced are not reported by the underlying executor's getResult()", async () => {
    const marker = `lithops-once-${process.pid}-${Date.now()}`;
    // Fails on its first run only: the first run leaves a file the second one finds.
    const failsOnce = async (name: string): Promise<string> => {
      const { existsSync, writeFileSync } = await import("node:fs");
      const { join } = await import("node:path");
      const { tmpdir } = await import("node:os");
      const path = join(tmpdir(), name);
      if (existsSync(path)) return "second run";
      writeFileSync(path, "");
      throw new Error("first run fails");
    };
    const fs = await retrying.map(failsOnce, [marker], { retries: 1 });
    assert.equal(await fs[0].result({ timeout: 60 }), "second run");
    assert.deepEqual(await retrying.getResult(fs), ["second run"]);
    assert.equal(fs[0].attempts, 2);
    // The first run failed, but the retrying executor replaced it: nothing is left to report.
    assert.deepEqual(await fexec.getResult(), []);
    (await import("node:fs")).rmSync((await import("node:path")).join((await import("node:os")).tmpdir(), marker), { force: true });
  });
});
