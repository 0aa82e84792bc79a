import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { batchCalls, defaultCallsPerBatch, type BatchInput } from "../../client/call-batches.ts";
import { decodeValue, encodeValue } from "../../protocol/data-codec.ts";
import { OutputIntegrityError, UnserializableValueError } from "../../protocol/errors.ts";
import { assertId, callId, dataKey, executorPrefix, functionKey, jobPrefix, outputKey, runtimePrefix } from "../../protocol/keys.ts";
import { ALLOWED_MEMORY_MB, cpuForMemory } from "../../runtime-model/memory.ts";
import { InvalidMemoryError } from "../../runtime-model/errors.ts";
import { callSlices, decodeMessage, MAX_MESSAGE_BYTES, type CallBatchMessage } from "../../protocol/message.ts";
import { MalformedMessageError } from "../../protocol/errors.ts";
import { APP_NAME_MAX, assertRuntimeName, runtimeQueues, runtimeResourceName } from "../../azure/runtime-name.ts";
import { InvalidRuntimeNameError } from "../../azure/errors.ts";
import { attachSignature, callKeyToken, checkGrant, detachSignature, messageKey, sha256, signingIdentity, verifySignature } from "../../protocol/signing.ts";
import { decodeBatchOutput, encodeBatchOutput, type BatchOutput } from "../../protocol/output.ts";
import { NODE_MAJOR, PROTOCOL_VERSION } from "../../protocol/version.ts";

describe("memory table", () => {
  it("maps Lithops's sizes to vCPU", () => {
    assert.equal(cpuForMemory(512), 0.25);
    assert.equal(cpuForMemory(2048), 1);
    assert.equal(cpuForMemory(4096), 2);
    assert.equal(cpuForMemory(8192), 4);
  });

  it("rejects a size not in the table, naming the value, the key and the allowed sizes", () => {
    assert.throws(
      () => cpuForMemory(1000, "azure_containers.runtime_memory"),
      (error: unknown) => {
        assert.ok(error instanceof InvalidMemoryError);
        assert.match(error.message, /azure_containers\.runtime_memory/);
        assert.match(error.message, /\b1000\b/);
        assert.match(error.message, new RegExp(ALLOWED_MEMORY_MB.join(", ")));
        return true;
      },
    );
    assert.throws(() => cpuForMemory(512.5), InvalidMemoryError);
  });
});

describe("runtime names", () => {
  it("accepts 'default' and lower-case image references", () => {
    for (const name of ["default", "myaccount/runtime:tag", "lithopscloud/ca-node20:01", "registry.example.com:5000/team/img:1.0"]) {
      assert.equal(assertRuntimeName(name), name);
    }
  });

  it("rejects other names, naming the value and the key", () => {
    for (const name of ["", "My/Image:tag", "img name", "a//b", "-leading", "img:", "../etc"]) {
      assert.throws(
        () => assertRuntimeName(name, "azure_containers.runtime"),
        (error: unknown) =>
          error instanceof InvalidRuntimeNameError && error.message.includes(JSON.stringify(name)) && error.message.includes("azure_containers.runtime"),
        `expected ${JSON.stringify(name)} to be rejected`,
      );
    }
  });

  const runtimeNames = [
    "default",
    "a-b",
    "a.b",
    "a_b",
    "a/b",
    "user/img:tag",
    "user/img-tag",
    "user/img:1.0",
    "user/img:1-0",
    "registry.example.com:5000/team/a-very-long-image-name-for-testing:2024.01.02",
    "registry.example.com:5000/team/a-very-long-image-name-for-testing:2024.01.03",
  ];

  it("derives Azure names: <= 32 chars, lower case, starting with a letter, single hyphens; queues too", () => {
    for (const name of runtimeNames) {
      for (const memory of ALLOWED_MEMORY_MB) {
        const resource = runtimeResourceName(name, memory);
        assert.ok(resource.length >= 2 && resource.length <= APP_NAME_MAX, `${resource} has ${resource.length} chars`);
        assert.match(resource, /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/, `${resource} is not a Container App name`);
        const { queue, poisonQueue } = runtimeQueues(name, memory);
        // Azure queue names: 3-63 chars, lower case letters, digits and single hyphens.
        for (const q of [queue, poisonQueue]) assert.match(q, /^(?=.{3,63}$)[a-z0-9]+(-[a-z0-9]+)*$/);
      }
    }
    assert.equal(runtimeResourceName("default", 512), "lithops-default-512");
  });

  it("gives distinct names to distinct (runtime, memory) pairs", () => {
    const seen = new Map<string, string>();
    for (const name of runtimeNames) {
      for (const memory of ALLOWED_MEMORY_MB) {
        const resource = runtimeResourceName(name, memory);
        const previous = seen.get(resource);
        assert.equal(previous, undefined, `${name} at ${memory} MB and ${previous} both map to ${resource}`);
        seen.set(resource, `${name} at ${memory} MB`);
      }
    }
  });
});

describe("storage keys", () => {
  it("rejects ids that could reach outside their prefix", () => {
    for (const bad of ["../x", "a/b", "/abs", "..", "", "a b", "x".repeat(65)]) {
      assert.throws(
        () => assertId("job id", bad),
        (error: Error) => error.message.includes(JSON.stringify(bad)) && error.message.includes("job id"),
      );
    }
    assert.throws(() => executorPrefix("../other"), /executor id "\.\.\/other" is not valid/);
    assert.throws(() => jobPrefix("exec", "a/b"), /job id "a\/b" is not valid/);
    assert.throws(() => runtimePrefix("q/../../x"), /queue name/);
  });

  it("lays keys out under lithops.jobs/<executor>/<job>/ and pads call ids", () => {
    assert.equal(jobPrefix("e1-1", "M000"), "lithops.jobs/e1-1/M000/");
    assert.equal(functionKey("e1-1", "M000"), "lithops.jobs/e1-1/M000/function.cjs");
    assert.equal(dataKey("e1-1", "M000"), "lithops.jobs/e1-1/M000/data.bin");
    assert.equal(outputKey("e1-1", "M000", 7), "lithops.jobs/e1-1/M000/out/000007.bin");
    assert.equal(callId(0), "00000");
    assert.equal(callId(42), "00042");
    assert.equal(callId(99_999), "99999");
  });
});

const validMessage: CallBatchMessage = {
  v: PROTOCOL_VERSION,
  kind: "calls",
  queue: "lithops-q512",
  executorId: "abc123-1",
  jobId: "M000",
  batch: 0,
  nodeMajor: NODE_MAJOR,
  timeout: 60,
  func: { inline: Buffer.from("exports.handler = (x) => x;").toString("base64") },
  data: { key: "lithops.jobs/abc123-1/M000/data.bin", start: 0, end: 30, sha256: sha256(Buffer.alloc(30)) },
  calls: { first: 0, offsets: [0, 10, 20, 30] },
  submitted: 1_700_000_000_000,
};

/** The MalformedMessageError that decoding `text` throws. */
function decodeError(text: string): MalformedMessageError {
  try {
    decodeMessage(text);
  } catch (error) {
    assert.ok(error instanceof MalformedMessageError, `expected MalformedMessageError, got ${String(error)}`);
    return error;
  }
  assert.fail(`message was accepted: ${text.slice(0, 100)}`);
}

describe("queue message decoding", () => {
  it("accepts a valid message", () => {
    assert.deepEqual(decodeMessage(JSON.stringify(validMessage)), validMessage);
    assert.deepEqual(
      callSlices(validMessage.calls).map((s) => [s.id, s.start, s.end]),
      [
        ["00000", 0, 10],
        ["00001", 10, 20],
        ["00002", 20, 30],
      ],
    );
  });

  it("rejects text that is not JSON, quoting its start", () => {
    assert.match(decodeError("hello, worker").message, /not JSON.*hello, worker/);
  });

  it("rejects another protocol version, naming both versions", () => {
    const message = decodeError(JSON.stringify({ ...validMessage, v: PROTOCOL_VERSION + 1 })).message;
    assert.match(message, new RegExp(`version ${PROTOCOL_VERSION + 1}\\b.*version ${PROTOCOL_VERSION}\\b`));
  });

  it("rejects a missing field, naming it", () => {
    const { jobId: _jobId, ...withoutJob } = validMessage;
    assert.match(decodeError(JSON.stringify(withoutJob)).message, /jobId:/);
  });

  it("rejects an extra field, naming it", () => {
    assert.match(decodeError(JSON.stringify({ ...validMessage, command: "rm -rf /" })).message, /Unrecognized key.*command/);
  });

  it("rejects decreasing call offsets and reversed byte ranges", () => {
    const offsets = decodeError(JSON.stringify({ ...validMessage, calls: { first: 0, offsets: [0, 20, 10] } })).message;
    assert.match(offsets, /calls.*offsets must not decrease/);
    const range = decodeError(JSON.stringify({ ...validMessage, data: { key: "k", start: 9, end: 3, sha256: sha256(Buffer.alloc(0)) } })).message;
    assert.match(range, /data.*end must not be before start/);
  });

  it("rejects ids that are not ids, and a foreign JSON document", () => {
    assert.match(decodeError(JSON.stringify({ ...validMessage, executorId: "../../etc" })).message, /executorId/);
    assert.match(decodeError(JSON.stringify({ hello: "world" })).message, new RegExp(`does not match protocol v${PROTOCOL_VERSION}`));
    assert.match(decodeError("[1,2,3]").message, /expected object/);
  });

  it("rejects a blob reference without its SHA-256, or with one that is not a digest", () => {
    const { sha256: _digest, ...noDigest } = validMessage.data as { sha256: string };
    assert.match(decodeError(JSON.stringify({ ...validMessage, data: noDigest })).message, /data/);
    assert.match(decodeError(JSON.stringify({ ...validMessage, data: { ...noDigest, sha256: "abc" } })).message, /not a base64url SHA-256/);
  });

  it("rejects a message without the queue it is for", () => {
    const { queue: _queue, ...noQueue } = validMessage;
    assert.match(decodeError(JSON.stringify(noQueue)).message, /queue/);
  });

  it("does not echo a large payload in its error", () => {
    const message = decodeError(`not json ${"x".repeat(100_000)}`).message;
    assert.ok(message.length < 200, `error has ${message.length} chars`);
  });
});

describe("data codec", () => {
  it("round-trips rich types", () => {
    const value = {
      buffer: Buffer.from([1, 2, 3]),
      date: new Date(1_234_567_890_000),
      map: new Map<string, unknown>([
        ["a", 1n],
        ["b", new Set(["x"])],
      ]),
      typed: new Uint16Array([1, 65535]),
      nested: [undefined, null, -0, Number.NaN, "text"],
      error: new RangeError("out of range"),
    };
    const back = decodeValue(encodeValue(value, "test value")) as typeof value;
    assert.deepEqual(Buffer.from(back.buffer), value.buffer);
    assert.equal(back.date.getTime(), value.date.getTime());
    assert.equal(back.map.get("a"), 1n);
    assert.deepEqual(back.map.get("b"), new Set(["x"]));
    assert.ok(back.typed instanceof Uint16Array);
    assert.deepEqual([...back.typed], [1, 65535]);
    assert.deepEqual(back.nested, value.nested);
    assert.ok(Object.is(back.nested[2], -0));
    assert.ok(back.error instanceof RangeError && back.error.message === "out of range");
  });

  it("refuses a function inside a value, naming which value it was", () => {
    assert.throws(
      () => encodeValue([1, { callback: () => 2 }], "the argument of call 7"),
      (error: unknown) => error instanceof UnserializableValueError && /^the argument of call 7 cannot be serialized/.test(error.message),
    );
    assert.throws(() => encodeValue(Symbol("s"), "the call's return value"), /the call's return value cannot be serialized/);
  });
});

describe("message signing", () => {
  const key = "k".repeat(32);
  const text = JSON.stringify(validMessage);

  it("attaches a signature that detaches to the signed text and verifies", () => {
    const signed = attachSignature(text, key);
    assert.deepEqual(decodeMessage(signed).jobId, validMessage.jobId);
    const parts = detachSignature(signed);
    assert.ok(parts);
    assert.equal(parts.unsigned, text);
    assert.ok(verifySignature(parts.unsigned, parts.sig, key));
  });

  it("fails verification for tampered text, another key, or no signature", () => {
    const signed = attachSignature(text, key);
    const tampered = detachSignature(signed.replace('"timeout":60', '"timeout":61'));
    assert.ok(tampered);
    assert.equal(verifySignature(tampered.unsigned, tampered.sig, key), false);
    const parts = detachSignature(signed);
    assert.ok(parts);
    assert.equal(verifySignature(parts.unsigned, parts.sig, "x".repeat(32)), false);
    assert.equal(verifySignature(parts.unsigned, `${parts.sig.slice(0, -1)}A`, key), false);
    assert.equal(detachSignature(text), undefined);
  });
});

const FUNCTION_TEXT = "exports.handler = (x) => x;";

function job(calls: Buffer[], overrides: Partial<BatchInput> = {}): BatchInput {
  return { executorId: "abc123-1", jobId: "M000", functionText: FUNCTION_TEXT, calls, parallelism: 2, timeout: 600, queue: "lithops-q512", ...overrides };
}

/** Each call's argument bytes as a worker would read them from the plan's messages and uploads. */
function callBytesSeenByWorker(plan: ReturnType<typeof batchCalls>): Map<string, Buffer> {
  const blobs = new Map(plan.uploads.map((u) => [u.key, u.bytes]));
  const seen = new Map<string, Buffer>();
  for (const text of plan.messages) {
    const message = decodeMessage(text);
    const data =
      "inline" in message.data ? Buffer.from(message.data.inline, "base64") : blobs.get(message.data.key)?.subarray(message.data.start, message.data.end);
    assert.ok(data, `message of batch ${message.batch} points at a blob that is not uploaded`);
    if ("key" in message.data) assert.equal(sha256(data), message.data.sha256, `batch ${message.batch}'s data digest`);
    for (const slice of callSlices(message.calls)) seen.set(slice.id, data.subarray(slice.start, slice.end));
  }
  return seen;
}

describe("job plan", () => {
  it("puts small calls inline in one message per batch, with no upload", () => {
    const calls = Array.from({ length: 6 }, (_, i) => encodeValue([i], "arg"));
    const plan = batchCalls(job(calls, { parallelism: 1 }));
    assert.equal(plan.uploads.length, 0);
    assert.equal(plan.messages.length, plan.batches.length);
    assert.deepEqual(
      plan.batches.flatMap((b) => b.callIds),
      ["00000", "00001", "00002", "00003", "00004", "00005"],
    );
    for (const text of plan.messages) assert.ok("inline" in decodeMessage(text).data);
  });

  it("moves large arguments to one data blob per job, read by byte range", () => {
    const calls = [encodeValue([Buffer.alloc(200_000, 1)], "arg"), encodeValue([Buffer.alloc(300_000, 2)], "arg"), encodeValue(["small"], "arg")];
    const plan = batchCalls(job(calls, { parallelism: 3 }));
    assert.deepEqual(
      plan.uploads.map((u) => u.key),
      [dataKey("abc123-1", "M000")],
    );
    const seen = callBytesSeenByWorker(plan);
    calls.forEach((bytes, i) => void assert.deepEqual(seen.get(callId(i)), bytes));
  });

  it("uploads a large function once instead of putting it in every message", () => {
    const functionText = `exports.handler = (x) => x; // ${"padding ".repeat(3000)}`;
    const plan = batchCalls(job([encodeValue([1], "arg"), encodeValue([2], "arg")], { functionText, parallelism: 1 }));
    assert.deepEqual(
      plan.uploads.map((u) => u.key),
      [functionKey("abc123-1", "M000")],
    );
    for (const text of plan.messages) {
      const { func } = decodeMessage(text);
      assert.ok("key" in func);
      assert.equal(func.sha256, sha256(Buffer.from(functionText)));
    }
  });

  it("names the runtime's queue in every message, under the signature", () => {
    const plan = batchCalls(job([encodeValue([1], "arg")], { signingKey: "s".repeat(32) }));
    const signed = detachSignature(plan.messages[0]);
    assert.ok(signed);
    assert.equal(decodeMessage(plan.messages[0]).queue, "lithops-q512");
    assert.ok(verifySignature(signed.unsigned, signed.sig, "s".repeat(32)));
  });

  it("sends 1,000 calls in a few messages", () => {
    const calls = Array.from({ length: 1000 }, (_, i) => encodeValue([i], "arg"));
    const plan = batchCalls(job(calls, { parallelism: 4 }));
    assert.ok(plan.messages.length <= 16, `${plan.messages.length} messages`);
    assert.equal(
      plan.batches.reduce((n, b) => n + b.callIds.length, 0),
      1000,
    );
    const seen = callBytesSeenByWorker(plan);
    assert.equal(Array.isArray(decodeValue(seen.get("00999") ?? Buffer.alloc(0))), true);
    assert.deepEqual(decodeValue(seen.get("00999") ?? Buffer.alloc(0)), [999]);
  });

  it("gives each slot 4 batches of a small share of the calls, 2 of a medium one and 1 of a large one", () => {
    const messages = (calls: number, parallelism: number): number =>
      batchCalls(
        job(
          Array.from({ length: calls }, (_, i) => encodeValue([i], "arg")),
          { parallelism },
        ),
      ).messages.length;
    // A batch costs about seven storage requests whatever its size: a 1,000-call map on 2 slots is 2 of them, not 8.
    assert.equal(messages(1000, 2), 2);
    assert.equal(messages(512, 2), 2, "a share of 256 calls: one batch");
    assert.equal(messages(510, 2), 4, "a share of 255 calls: two batches");
    assert.equal(messages(1000, 20), 40, "a share of 50 calls: two batches");
    // Small shares keep 4 batches per slot, so a slot that finishes early takes over queued work.
    assert.equal(messages(100, 20), 50, "a share of 5 calls: 4 batches of 1-2 calls");
    assert.equal(messages(16, 1), 4, "a share of 16 calls: 4 batches");
    assert.equal(defaultCallsPerBatch(3, 8), 1);
    assert.equal(defaultCallsPerBatch(100_000, 2), 1000, "at most MAX_CALLS_PER_MESSAGE calls a batch");
  });

  it("keeps every message within 64 KiB and every call's bytes intact, for any mix of sizes", () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.nat(200), fc.nat(5000), fc.integer({ min: 20_000, max: 120_000 })), { minLength: 1, maxLength: 400 }),
        fc.integer({ min: 1, max: 64 }),
        fc.boolean(),
        (sizes, parallelism, signed) => {
          const calls = sizes.map((size, i) => Buffer.alloc(size, i % 251));
          const plan = batchCalls(job(calls, { parallelism, signingKey: signed ? "s".repeat(32) : undefined }));
          for (const text of plan.messages) assert.ok(Buffer.byteLength(text) <= MAX_MESSAGE_BYTES, `message of ${Buffer.byteLength(text)} bytes`);
          assert.ok(plan.uploads.length <= 1);
          const seen = callBytesSeenByWorker(plan);
          assert.equal(seen.size, calls.length);
          calls.forEach((bytes, i) => void assert.ok(seen.get(callId(i))?.equals(bytes), `call ${i} bytes differ`));
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe("call keys (nested jobs sign without the stack's key)", () => {
  const stackKey = "stack-key-0123456789abcdef0123456789";
  const grant = { e: "abc123-1", j: "M000", b: 0, x: Date.now() + 60_000 };

  it("a call key token signs messages the worker verifies with the stack's key and the message's grant", () => {
    const token = callKeyToken(stackKey, grant);
    assert.ok(!token.includes(stackKey));
    const plan = batchCalls(job([encodeValue([1], "arg")], { signingKey: token }));
    const message = decodeMessage(plan.messages[0]);
    assert.ok(message.dlg);
    assert.deepEqual(checkGrant(message.dlg), grant);
    const signed = detachSignature(plan.messages[0]);
    assert.ok(signed);
    assert.ok(verifySignature(signed.unsigned, signed.sig, messageKey(stackKey, message.dlg)));
    assert.equal(verifySignature(signed.unsigned, signed.sig, stackKey), false);
  });

  it("a grant changed by its holder no longer matches its key", () => {
    const token = callKeyToken(stackKey, grant);
    const { key } = signingIdentity(token);
    const longer = JSON.stringify({ ...grant, x: grant.x + 3_600_000 });
    assert.notEqual(messageKey(stackKey, longer), key);
  });

  it("refuses an expired grant and one that is not a grant, with MalformedMessageError", () => {
    assert.throws(
      () => checkGrant(JSON.stringify({ ...grant, x: Date.now() - 1 })),
      (e: unknown) => e instanceof MalformedMessageError && /expired/.test(e.message),
    );
    assert.throws(() => checkGrant("{"), MalformedMessageError);
    assert.throws(() => checkGrant(JSON.stringify({ e: "a" })), MalformedMessageError);
  });
});

describe("batch output MAC", () => {
  const key = "stack-key-0123456789abcdef0123456789";
  const address = { executorId: "abc123-1", jobId: "M000", batch: 3 };
  const output: BatchOutput = { v: PROTOCOL_VERSION, ...address, workerId: "w", storageOps: 1, calls: [] };
  const stored = outputKey("abc123-1", "M000", 3);

  it("round-trips with the key", () => {
    assert.deepEqual(decodeBatchOutput(encodeBatchOutput(output, key, undefined), key, stored), output);
  });

  it("refuses an altered output, one MACed with another key, an unsigned one and another batch's, before deserializing", () => {
    const bytes = encodeBatchOutput(output, key, undefined);
    const altered = Buffer.from(bytes);
    altered[altered.length - 1] ^= 1;
    const integrity = (e: unknown) => e instanceof OutputIntegrityError && /abc123-1\/M000\/out\/000003\.bin/.test(e.message);
    assert.throws(() => decodeBatchOutput(altered, key, stored), integrity);
    assert.throws(() => decodeBatchOutput(encodeBatchOutput(output, "another-key-0123456789abcdef", undefined), key, stored), integrity);
    assert.throws(() => decodeBatchOutput(encodeBatchOutput(output, undefined, undefined), key, stored), integrity);
    assert.throws(() => decodeBatchOutput(bytes, key, outputKey("abc123-1", "M000", 4)), OutputIntegrityError);
    assert.throws(() => decodeBatchOutput(Buffer.from("garbage"), key, stored), OutputIntegrityError);
  });

  it("is read without a key by a client that does not sign (a runtime that opted out)", () => {
    assert.deepEqual(decodeBatchOutput(encodeBatchOutput(output, undefined, undefined), undefined, stored), output);
  });

  it("a nested job's output is checked by the nested client with its call key, and by the stack's key holder", () => {
    const token = callKeyToken(key, { e: "abc123-1", j: "M000", b: 0, x: Date.now() + 60_000 });
    const { grant } = signingIdentity(token);
    const bytes = encodeBatchOutput(output, key, grant);
    assert.deepEqual(decodeBatchOutput(bytes, token, stored), output);
    assert.deepEqual(decodeBatchOutput(bytes, key, stored), output);
    const otherCall = callKeyToken(key, { e: "abc123-1", j: "M000", b: 1, x: Date.now() + 60_000 });
    assert.throws(() => decodeBatchOutput(bytes, otherCall, stored), OutputIntegrityError);
  });
});
