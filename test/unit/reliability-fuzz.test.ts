import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import type { ContainerClient } from "@azure/storage-blob";
import type { DequeuedMessageItem, QueueClient } from "@azure/storage-queue";
import fc from "fast-check";
import { readConfigFile, resolveConfig, validateConfigFile } from "../../client/config.ts";
import { ConfigError } from "../../client/errors.ts";
import { batchCalls } from "../../client/call-batches.ts";
import { encodeValue } from "../../protocol/data-codec.ts";
import { parseWorkerEnv } from "../../protocol/env.ts";
import { outputKey } from "../../protocol/keys.ts";
import { decodeMessage, readBatchAddress } from "../../protocol/message.ts";
import { MalformedMessageError } from "../../protocol/errors.ts";
import { decodeBatchOutput } from "../../protocol/output.ts";
import { RequestCounter } from "../../azure/storage-connection.ts";
import type { BatchContext } from "../../worker/batch-runner.ts";
import { PayloadReader } from "../../worker/payloads.ts";
import { QueueConsumer } from "../../worker/queue-consumer.ts";
import { analyzeAttemptLog } from "../../worker/redelivery.ts";
import type { CallThreadPool } from "../../worker/thread-pool.ts";

/**
 * Random and malformed input to the worker's message handling (decodeMessage and the
 * consumer's reject path, with in-memory queue and storage) and to the config loader:
 * no crash, no hang, a clear error each time. Counts of inputs tried are printed.
 */
// A few hundred inputs of each kind keep the unit tier quick; LITHOPS_LONG_TESTS=1 (or LITHOPS_FUZZ_RUNS) explores far more.
const RUNS = Number(process.env.LITHOPS_FUZZ_RUNS ?? (process.env.LITHOPS_LONG_TESTS === "1" ? 20_000 : 300));
// No hang: generous, since a loaded CI machine can pause for a second; a hang would be far longer.
const SLOW_MS = 5_000;
const KEY = "fuzz-signing-key-0123456789abcdef";

function validMessage(signingKey?: string): string {
  const plan = batchCalls({
    executorId: "fuzz-1",
    jobId: "M000",
    functionText: "exports.handler = (x) => x;",
    calls: [1, 2, 3].map((x) => encodeValue([x], "argument")),
    parallelism: 1,
    timeout: 5,
    queue: "q-fuzz",
    signingKey,
  });
  return plan.messages[0];
}

/** Edits of a text: replace, insert or delete at random places (one changed byte included). */
const mutated = (text: string): fc.Arbitrary<string> =>
  fc
    .array(
      fc.record({
        at: fc.nat({ max: text.length }),
        kind: fc.constantFrom("replace", "insert", "delete"),
        piece: fc.string({ minLength: 1, maxLength: 4, unit: "binary" }),
        length: fc.integer({ min: 1, max: 40 }),
      }),
      { minLength: 1, maxLength: 4 },
    )
    .map((edits) => {
      let out = text;
      for (const edit of edits) {
        const at = Math.min(edit.at, out.length);
        if (edit.kind === "replace") out = out.slice(0, at) + edit.piece[0] + out.slice(at + 1);
        else if (edit.kind === "insert") out = out.slice(0, at) + edit.piece + out.slice(at);
        else out = out.slice(0, at) + out.slice(at + edit.length);
      }
      return out;
    });

/** Deeply nested JSON in any field: stack overflows are a classic crash. */
const deep = fc
  .tuple(fc.constantFrom("v", "kind", "func", "data", "calls", "batch", "sig"), fc.integer({ min: 1, max: 20_000 }), fc.boolean())
  .map(
    ([field, depth, arrays]) =>
      `{"v":1,"kind":"calls","${field}":${arrays ? "[".repeat(depth) + "]".repeat(depth) : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`}}`,
  );

/** JSON objects shaped like a message, with fields of the wrong type, missing or extra. */
const messageLike = fc
  .record(
    {
      v: fc.oneof(fc.constant(1), fc.jsonValue()),
      kind: fc.oneof(fc.constant("calls"), fc.jsonValue()),
      executorId: fc.oneof(fc.constantFrom("e-1", "../x", "", "a/b", "é"), fc.jsonValue()),
      jobId: fc.oneof(fc.constantFrom("M000", ".."), fc.jsonValue()),
      batch: fc.oneof(fc.integer(), fc.double(), fc.jsonValue()),
      nodeMajor: fc.oneof(fc.constant(20), fc.jsonValue()),
      timeout: fc.oneof(fc.double(), fc.jsonValue()),
      func: fc.oneof(fc.record({ inline: fc.base64String() }), fc.record({ key: fc.string(), start: fc.integer(), end: fc.integer() }), fc.jsonValue()),
      data: fc.oneof(
        fc.record({ inline: fc.string() }),
        fc.record({ key: fc.constantFrom("lithops.jobs/e-1/M000/data.bin", "lithops.jobs/e-1/M000/../../x"), start: fc.nat(), end: fc.nat() }),
        fc.jsonValue(),
      ),
      calls: fc.oneof(fc.record({ first: fc.integer(), offsets: fc.array(fc.integer(), { maxLength: 1200 }) }), fc.jsonValue()),
      submitted: fc.oneof(fc.double(), fc.jsonValue()),
      sig: fc.oneof(fc.string(), fc.jsonValue()),
      extra: fc.jsonValue(),
    },
    { requiredKeys: [] },
  )
  .map((value) => JSON.stringify(value));

/** The one genuinely signed message of this file: every other text the consumer sees must be rejected. */
const SIGNED = validMessage(KEY);

const anyMessageText = fc.oneof(fc.string({ maxLength: 300, unit: "binary" }), fc.json(), messageLike, deep, mutated(validMessage()), mutated(SIGNED));

/** decodeMessage's contract: a message, or a MalformedMessageError; nothing else, never slowly. */
function decodeOrMalformed(text: string): "ok" | "malformed" {
  const started = Date.now();
  try {
    decodeMessage(text);
    return "ok";
  } catch (error) {
    assert.ok(
      error instanceof MalformedMessageError,
      `decodeMessage threw ${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 200)} for ${JSON.stringify(text.slice(0, 100))}`,
    );
    assert.ok(error.message.length > 10 && error.message.length < 2_000, `unclear or huge error: ${error.message.slice(0, 200)}`);
    return "malformed";
  } finally {
    assert.ok(Date.now() - started < SLOW_MS, `decodeMessage took ${Date.now() - started} ms`);
  }
}

const tried = { decode: 0, consumer: 0, configObjects: 0, configFiles: 0, workerEnv: 0, attemptLogs: 0 };

describe("fuzz: the worker's message handling", () => {
  it("decodeMessage: random text, JSON, message-shaped objects, deep nesting and edits of valid messages", () => {
    fc.assert(
      fc.property(anyMessageText, (text) => {
        tried.decode += 1;
        decodeOrMalformed(text);
      }),
      { numRuns: RUNS * 4, verbose: 1 },
    );
    assert.equal(decodeOrMalformed(SIGNED), "ok");
  });

  it("the consumer rejects, records and deletes every message it cannot run, runs none of them, and never throws", async () => {
    const signed = SIGNED;
    await fc.assert(
      fc.asyncProperty(anyMessageText, fc.integer({ min: 1, max: 10 }), async (text, dequeueCount) => {
        tried.consumer += 1;
        const world = fakeWorld();
        const consumer = world.consumer(KEY);
        const item = {
          messageId: `m-${tried.consumer}`,
          popReceipt: "p",
          messageText: text,
          dequeueCount,
          insertedOn: new Date(),
        } as unknown as DequeuedMessageItem;
        const started = Date.now();
        await (consumer as unknown as { handle(item: DequeuedMessageItem): Promise<void> }).handle(item);
        assert.ok(Date.now() - started < SLOW_MS, "slow rejection");
        if (text === signed) return; // unchanged by the edits: a genuine message
        assert.equal(world.ran, 0, `ran a call of ${JSON.stringify(text.slice(0, 120))}`);
        assert.deepEqual(world.deleted, [item.messageId], "the message is deleted, not left to come back");
        const records = [...world.blobs.keys()].filter((key) => key.startsWith("lithops.runtimes/q-fuzz/rejected/"));
        assert.equal(records.length, 1, "one rejection record");
        const record = JSON.parse(world.blobs.get(records[0])!) as { reason: string; messageId: string };
        assert.equal(record.messageId, item.messageId);
        assert.ok(record.reason.length > 10);
        // A message that still names its batch fails that batch's calls with the reason; any other writes no output.
        const outputs = [...world.blobs.keys()].filter((key) => key.includes("/out/"));
        const batch = readBatchAddress(text);
        assert.deepEqual(outputs, batch ? [outputKey(batch.executorId, batch.jobId, batch.batch)] : [], "output only for a readable batch address");
        if (batch) {
          const output = decodeBatchOutput(Buffer.from(world.blobs.get(outputs[0])!, "base64"), KEY, outputs[0]!);
          assert.ok(
            output.calls.length > 0 &&
              output.calls.every((call) => !call.ok && call.error.name === "MessageRejectedError" && call.error.message.endsWith(record.reason)),
          );
        }
      }),
      { numRuns: RUNS, verbose: 1 },
    );
    // The same consumer does run the genuine message: the harness can tell running from rejecting.
    const world = fakeWorld();
    await (world.consumer(KEY) as unknown as { handle(item: DequeuedMessageItem): Promise<void> }).handle({
      messageId: "genuine",
      popReceipt: "p",
      messageText: signed,
      dequeueCount: 1,
    } as unknown as DequeuedMessageItem);
    assert.equal(world.ran, 1); // the first batch of the plan holds one call
    // Its output, and the marker of its first delivery (a replay of it would be refused).
    assert.deepEqual(
      [...world.blobs.keys()].map((key) => key.replace(/\/[^/]+$/, "/")),
      ["lithops.deliveries/q-fuzz/", "lithops.jobs/fuzz-1/M000/out/"],
    );
  });

  it("the attempt log reader takes any text", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 500 }),
          fc
            .array(
              fc.oneof(
                fc.jsonValue().map((v) => JSON.stringify(v)),
                fc.constantFrom('{"d":2}', '{"s":"00001"}', '{"s":3}', '{"r":1}', '{"r":2}'),
              ),
            )
            .map((l) => l.join("\n")),
        ),
        (text) => {
          tried.attemptLogs += 1;
          const analysis = analyzeAttemptLog(text);
          const segments = (text.match(/"d":/g) ?? []).length;
          const blamed = [...analysis.blame.values()].reduce((a, b) => a + b, 0);
          assert.ok(analysis.unattributed >= analysis.parallelDeaths && blamed + analysis.unattributed <= segments + 1);
        },
      ),
      { numRuns: RUNS, verbose: 1 },
    );
  });
});

describe("fuzz: the config loader", () => {
  const dir = mkdtempSync(join(tmpdir(), "lithops-fuzz-config-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  const configLike = fc.record(
    {
      lithops: fc.oneof(
        fc.record(
          { backend: fc.jsonValue(), signing_key: fc.string(), log_level: fc.constantFrom("DEBUG", "debug", 3), storage_retry_timeout: fc.jsonValue() },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
      azure_storage: fc.oneof(
        fc.record({ storage_bucket: fc.string(), connection_string: fc.jsonValue(), blob_endpoint: fc.string() }, { requiredKeys: [] }),
        fc.jsonValue(),
      ),
      azure_containers: fc.oneof(
        fc.record(
          { runtime: fc.string(), runtime_memory: fc.oneof(fc.constantFrom(512, 1024, 8192), fc.jsonValue()), runtimes: fc.jsonValue() },
          { requiredKeys: [] },
        ),
        fc.jsonValue(),
      ),
      local: fc.oneof(
        fc.record({ max_workers: fc.jsonValue(), cooldown: fc.double(), visibility_timeout: fc.integer() }, { requiredKeys: [] }),
        fc.jsonValue(),
      ),
      unknown_section: fc.jsonValue(),
    },
    { requiredKeys: [] },
  );

  /** Whatever the input: a config, or a ConfigError (or the runtime-name error that names the key) with a message. */
  function configOrClearError(run: () => unknown): void {
    const started = Date.now();
    try {
      run();
    } catch (error) {
      assert.ok(
        error instanceof ConfigError || (error as Error).name === "InvalidRuntimeNameError",
        `threw ${(error as Error)?.name}: ${(error as Error)?.message?.slice(0, 300)}`,
      );
      assert.ok((error as Error).message.length > 10);
    } finally {
      assert.ok(Date.now() - started < SLOW_MS, `took ${Date.now() - started} ms`);
    }
  }

  it("validateConfigFile and resolveConfig: any value, and config-shaped objects with wrong values", () => {
    fc.assert(
      fc.property(fc.oneof(fc.anything(), configLike), (raw) => {
        tried.configObjects += 1;
        configOrClearError(() => validateConfigFile(raw));
        if (raw !== null && typeof raw === "object" && !Array.isArray(raw)) {
          configOrClearError(() => resolveConfig({ config: raw as never }, {}));
        }
      }),
      { numRuns: RUNS, verbose: 1 },
    );
  });

  it("readConfigFile: random text, broken YAML, alias bombs and edits of a valid file", () => {
    const valid = "lithops:\n  backend: local\n  log_level: INFO\nlocal:\n  max_workers: 2\n  cooldown: 1.5\nazure_storage:\n  storage_bucket: my-jobs\n";
    const bomb =
      "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n";
    const path = join(dir, "config.yaml");
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 400, unit: "binary" }),
          mutated(valid),
          mutated(bomb),
          fc.constant(bomb),
          fc.constant("\t- [\n"),
          fc.constant("lithops: !!binary AAAA\n"),
        ),
        (text) => {
          tried.configFiles += 1;
          writeFileSync(path, text);
          configOrClearError(() => readConfigFile(path));
        },
      ),
      { numRuns: RUNS, verbose: 1 },
    );
    assert.throws(
      () => readConfigFile(join(dir, "missing.yaml")),
      (error: unknown) => error instanceof ConfigError && /cannot be read/.test(error.message),
    );
  });

  it("the worker's environment: random variables give a worker or an error naming them", () => {
    const names = [
      "LITHOPS_STORAGE_CONTAINER",
      "LITHOPS_QUEUE",
      "LITHOPS_POISON_QUEUE",
      "LITHOPS_RUNTIME_NAME",
      "LITHOPS_RUNTIME_MEMORY",
      "LITHOPS_VISIBILITY_TIMEOUT",
      "LITHOPS_MAX_DELIVERIES",
      "LITHOPS_SIGNING_KEY",
      "LITHOPS_STORAGE_CONNECTION_STRING",
      "LITHOPS_BACKEND",
    ];
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...names), fc.string({ maxLength: 30 })), (env) => {
        tried.workerEnv += 1;
        try {
          parseWorkerEnv(env);
        } catch (error) {
          assert.match((error as Error).message, /^worker environment is invalid/);
        }
      }),
      { numRuns: RUNS, verbose: 1 },
    );
  });

  it("reports how many inputs were tried", (t) => {
    t.diagnostic(`malformed inputs tried: ${JSON.stringify(tried)}`);
    assert.ok(tried.decode > 0 && tried.consumer > 0 && tried.configObjects > 0 && tried.configFiles > 0);
  });
});

/** In-memory queue, blob container and thread pool, enough for QueueConsumer.handle. */
function fakeWorld() {
  const blobs = new Map<string, string>();
  const deleted: string[] = [];
  let ran = 0;
  const blockBlob = (key: string) => ({
    exists: async () => blobs.has(key),
    download: async () => {
      if (!blobs.has(key)) throw Object.assign(new Error("not found"), { statusCode: 404 });
      return { readableStreamBody: undefined };
    },
    upload: async (body: string) => void blobs.set(key, body),
    uploadData: async (body: Uint8Array) => void blobs.set(key, Buffer.from(body).toString("base64")),
  });
  const container = {
    getBlockBlobClient: blockBlob,
    // Whole-blob reads (downloadBytes: the job's cancel marker) go through the blob client.
    getBlobClient: blockBlob,
    getAppendBlobClient: (key: string) => ({
      downloadToBuffer: async () => {
        if (!blobs.has(key)) throw Object.assign(new Error("not found"), { statusCode: 404 });
        return Buffer.from(blobs.get(key)!);
      },
      createIfNotExists: async () => void (blobs.has(key) || blobs.set(key, "")),
      appendBlock: async (line: string) => void blobs.set(key, (blobs.get(key) ?? "") + line),
    }),
  } as unknown as ContainerClient;
  const queue = {
    deleteMessage: async (id: string) => void deleted.push(id),
    updateMessage: async () => ({ popReceipt: "p2" }),
    sendMessage: async () => ({}),
  } as unknown as QueueClient;
  const pool = {
    capacity: 1,
    run: async () => {
      ran += 1;
      return { ok: true, result: encodeValue(null, "result"), started: Date.now(), finished: Date.now() };
    },
  } as unknown as CallThreadPool;
  const context: BatchContext = {
    container,
    payloads: new PayloadReader(container),
    pool,
    counter: new RequestCounter(),
    workerId: "fuzz-worker",
    runtimeTimeout: 600,
    signingKey: KEY,
  };
  return {
    blobs,
    deleted,
    get ran() {
      return ran;
    },
    consumer: (signingKey: string) =>
      new QueueConsumer(queue, queue, container, context, {
        queueName: "q-fuzz",
        visibilityTimeout: 30,
        maxDeliveries: 3,
        idlePollMaxMs: 100,
        signingKey,
        log: () => undefined,
      }),
  };
}
