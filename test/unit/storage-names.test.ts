import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { validateConfigFile } from "../../client/config.ts";
import { ConfigError } from "../../client/errors.ts";
import {
  attemptLogKey,
  dataKey,
  executorPrefix,
  functionKey,
  jobManifestKey,
  jobPrefix,
  outputKey,
  rejectedMessageKey,
  runtimeMetadataKey,
} from "../../protocol/keys.ts";
import { decodeMessage } from "../../protocol/message.ts";
import { MalformedMessageError } from "../../protocol/errors.ts";
import { assertRuntimeName, APP_NAME_MAX, runtimeQueues, runtimeResourceName } from "../../azure/runtime-name.ts";
import { InvalidRuntimeNameError } from "../../azure/errors.ts";
import { assertBlobKey, assertContainerName, parseStorageUri } from "../../azure/storage-names.ts";
import { InvalidStorageNameError } from "../../azure/errors.ts";
import { PROTOCOL_VERSION } from "../../protocol/version.ts";

/**
 * Storage keys and Azure names built from user input: executor and job ids, object URIs,
 * container names, runtime names. No key may leave its job's prefix, and no name may be
 * one Azure would reject.
 */
const QUEUE_NAME = /^(?=.{3,63}$)[a-z0-9]+(?:-[a-z0-9]+)*$/;
const APP_NAME = /^[a-z](?:[a-z0-9]|-(?!-))*[a-z0-9]$/;
const RUNS = 3000;

describe("storage keys from ids", () => {
  it("refuses ids that could leave their prefix or that Azure would mangle", () => {
    for (const bad of ["", "..", ".", "../x", "a/b", "a\\b", "-lead", "_lead", "a b", "a\u0000b", "é", "x".repeat(65), "a/../../lithops.runtimes"]) {
      assert.throws(() => jobPrefix("e-1", bad), /job id .* is not valid/, JSON.stringify(bad));
      assert.throws(() => executorPrefix(bad), /executor id .* is not valid/, JSON.stringify(bad));
    }
    assert.equal(jobPrefix("e-1", "M000"), "lithops.jobs/e-1/M000/");
  });

  it("any accepted pair of ids gives keys inside exactly lithops.jobs/<executor>/<job>/", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), fc.string({ maxLength: 70 }), fc.nat({ max: 999_999 }), (executorId, jobId, batch) => {
        let prefix: string;
        try {
          prefix = jobPrefix(executorId, jobId);
        } catch (error) {
          assert.match((error as Error).message, /(executor|job) id .* is not valid/);
          return;
        }
        assert.deepEqual(prefix.split("/"), ["lithops.jobs", executorId, jobId, ""]);
        for (const key of [
          functionKey(executorId, jobId),
          dataKey(executorId, jobId),
          outputKey(executorId, jobId, batch),
          jobManifestKey(executorId, jobId),
          attemptLogKey(executorId, jobId, batch),
        ]) {
          assert.ok(key.startsWith(prefix));
          assertBlobKey(key);
        }
      }),
      { numRuns: RUNS },
    );
  });

  it("runtime keys and rejection records stay under lithops.runtimes/<queue>/ whatever the message id", () => {
    assert.throws(() => runtimeMetadataKey("../x"), /queue name/);
    fc.assert(
      fc.property(fc.string({ maxLength: 100, unit: "binary" }), (messageId) => {
        const key = rejectedMessageKey("lithops-default-512", messageId);
        assert.ok(key.startsWith("lithops.runtimes/lithops-default-512/rejected/"));
        assert.equal(key.split("/").length, 4);
        assertBlobKey(key);
      }),
      { numRuns: RUNS },
    );
  });

  it("a queue message may not point at another job's blobs", () => {
    const base = {
      v: PROTOCOL_VERSION,
      kind: "calls",
      queue: "lithops-default-512",
      executorId: "e-1",
      jobId: "M000",
      batch: 0,
      nodeMajor: 20,
      timeout: 5,
      submitted: Date.now(),
      calls: { first: 0, offsets: [0, 1] },
    };
    const func = { inline: Buffer.from("exports.handler = () => 1").toString("base64") };
    // A well-formed digest: only the key may be wrong.
    const sha256 = "A".repeat(43);
    for (const key of [
      "lithops.jobs/e-2/M000/data.bin",
      "lithops.jobs/e-1/M000/../../e-2/M000/data.bin",
      "lithops.jobs/e-1/M0001/data.bin",
      "other/data.bin",
      "lithops.jobs/e-1/M000/./x",
    ]) {
      assert.throws(
        () => decodeMessage(JSON.stringify({ ...base, func, data: { key, start: 0, end: 1, sha256 } })),
        (error: unknown) => error instanceof MalformedMessageError && /outside its job's prefix/.test(error.message),
        key,
      );
    }
    assert.equal(decodeMessage(JSON.stringify({ ...base, func, data: { key: "lithops.jobs/e-1/M000/data.bin", start: 0, end: 1, sha256 } })).jobId, "M000");
  });
});

describe("object URIs, keys and container names", () => {
  it("rejects traversal, control characters, bad containers and over-long keys", () => {
    for (const uri of [
      "az://c/../x",
      "az://bucket/../x",
      "az://bucket/a/../../b",
      "az://bucket/./a",
      "az://bucket/a\\..\\b",
      "az://bucket/a\u0000b",
      "az://bucket/a\nb",
      "az://Bucket/x",
      "az://bu/x",
      "az://my--bucket/x",
      "az://-bucket/x",
      "az://bucket-/x",
      `az://${"b".repeat(64)}/x`,
      `az://bucket/${"k".repeat(1025)}`,
      "az://bucket/x.",
      "az://bucket//x",
      "s3://bucket/x",
      "az:/bucket/x",
      "bucket/x",
    ]) {
      assert.throws(() => parseStorageUri(uri), InvalidStorageNameError, uri);
    }
    assert.deepEqual(parseStorageUri("az://my-bucket/dir/file.csv"), { container: "my-bucket", key: "dir/file.csv" });
    assert.deepEqual(parseStorageUri("az://my-bucket/dir/", { prefix: true }), { container: "my-bucket", key: "dir/" });
    assert.deepEqual(parseStorageUri("az://my-bucket", { prefix: true }), { container: "my-bucket", key: "" });
    assert.throws(() => parseStorageUri("az://my-bucket/dir/"), /that is a prefix/);
    assert.equal(assertBlobKey("a/..b/c..d/.e"), "a/..b/c..d/.e");
  });

  it("any accepted URI has a valid container and a key with no '.' or '..' segment", () => {
    const pieces = fc.constantFrom("..", ".", "/", "a", "B", "-", "\\", "%2e", "\u0000", "é", "x.y", "");
    const uri = fc.oneof(
      fc.string({ maxLength: 80, unit: "binary" }).map((s) => `az://${s}`),
      fc.array(pieces, { maxLength: 12 }).map((p) => `az://bucket/${p.join("")}`),
    );
    fc.assert(
      fc.property(uri, fc.boolean(), (text, prefix) => {
        let parsed: ReturnType<typeof parseStorageUri>;
        try {
          parsed = parseStorageUri(text, { prefix });
        } catch (error) {
          assert.ok(error instanceof InvalidStorageNameError, String(error));
          return;
        }
        assertContainerName(parsed.container);
        assert.ok(!parsed.key.split("/").some((s) => s === "." || s === ".."));
        assert.ok(!parsed.key.startsWith("/") && parsed.key.length <= 1024);
      }),
      { numRuns: RUNS },
    );
  });

  it("the config's storage_bucket must be a container name Azure accepts", () => {
    for (const bucket of ["Lithops_Jobs", "ab", "a--b", "-jobs", "jobs-", "jobs.v2"]) {
      assert.throws(
        () => validateConfigFile({ azure_storage: { storage_bucket: bucket } }),
        (error: unknown) => error instanceof ConfigError && /azure_storage.storage_bucket/.test(error.message),
        bucket,
      );
    }
    assert.equal(validateConfigFile({ azure_storage: { storage_bucket: "lithops-jobs-2" } }).azure_storage?.storage_bucket, "lithops-jobs-2");
  });
});

describe("runtime names", () => {
  it("refuses traversal and upper case; gives Azure-valid queue and app names for every accepted name", () => {
    for (const bad of ["../x", "a/../b", "a/./b", "A/b", "a//b", "/a", "a/", "a b", "a\u0000", "a..b"]) {
      assert.throws(() => assertRuntimeName(bad), InvalidRuntimeNameError, bad);
    }
    const nameish = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(fc.constantFrom("a", "z", "0", "9", ".", "_", "-", "/", ":", "@sha256:", "..", "x".repeat(40)), { maxLength: 20 }).map((p) => p.join("")),
    );
    fc.assert(
      fc.property(nameish, fc.constantFrom(512, 1024, 2048, 4096, 8192), (name, memory) => {
        try {
          assertRuntimeName(name);
        } catch (error) {
          assert.ok(error instanceof InvalidRuntimeNameError);
          return;
        }
        const app = runtimeResourceName(name, memory);
        assert.ok(app.length >= 2 && app.length <= APP_NAME_MAX && APP_NAME.test(app), `app name ${app}`);
        const { queue, poisonQueue } = runtimeQueues(name, memory);
        assert.match(queue, QUEUE_NAME);
        assert.match(poisonQueue, QUEUE_NAME);
        executorPrefix("e-1"); // keys of the runtime use the queue name as an id
        runtimeMetadataKey(queue);
      }),
      { numRuns: RUNS },
    );
  });
});
