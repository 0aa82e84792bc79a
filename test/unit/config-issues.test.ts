import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { checkSchema, describeValid, didYouMean, isSecretKey, nearestName } from "../../runtime-model/config-issues.ts";

/** The one wording of config problems, on schemas of each kind the package uses. */

const style = { keyName: (path: readonly PropertyKey[]) => path.map(String).join("."), noun: "key" } as const;

/** The problem lines of `value` under `schema`. */
function problems(schema: z.ZodType, value: unknown): string[] {
  const checked = checkSchema(schema, value, style);
  assert.ok(!checked.success, `accepted ${JSON.stringify(value)}`);
  return checked.problems;
}

describe("nearestName", () => {
  const keys = ["runtime", "runtime_memory", "runtime_timeout", "max_workers", "worker_processes"];

  it("finds the key a typo was meant to be, ignoring case, a swap counting as one edit", () => {
    assert.equal(nearestName("runtime_memroy", keys), "runtime_memory");
    assert.equal(nearestName("RUNTIME_TIMEOUT", keys), "runtime_timeout");
    assert.equal(nearestName("max_worker", keys), "max_workers");
    assert.equal(nearestName("runtim", keys), "runtime");
  });

  it("suggests nothing when no key is near, and didYouMean lists the valid ones then", () => {
    assert.equal(nearestName("colour", keys), undefined);
    assert.equal(didYouMean("colour", keys), `valid: ${keys.join(", ")}`);
    assert.equal(didYouMean("max_wokers", keys), 'did you mean "max_workers"?');
  });
});

describe("describeValid", () => {
  it("words ranges, choices and kinds from the schema's own checks", () => {
    assert.equal(describeValid(z.number().int().min(1).max(1000)), "a whole number from 1 to 1000");
    assert.equal(describeValid(z.number().int().positive()), "a whole number of 1 or more");
    assert.equal(describeValid(z.number().int().min(0)), "a whole number of 0 or more");
    assert.equal(describeValid(z.number().positive()), "a number above 0");
    assert.equal(describeValid(z.number().min(0).max(100)), "a number of at least 0 and at most 100");
    assert.equal(describeValid(z.enum(["acr", "dockerhub"]).optional()), "one of acr, dockerhub");
    assert.equal(describeValid(z.string().min(16)), "text of at least 16 characters");
    assert.equal(describeValid(z.boolean().default(false)), "true or false");
    assert.equal(describeValid(z.array(z.string())), "a list, each item text");
    assert.equal(describeValid(z.number().nullable()), "a number, or null");
    assert.equal(describeValid(z.number().meta({ valid: "one of 512, 1024 (MB)" })), "one of 512, 1024 (MB)");
  });
});

describe("checkSchema", () => {
  const schema = z.strictObject({
    section: z.strictObject({ max_workers: z.number().int().min(1).max(1000).optional(), signing_key: z.string().min(16).optional() }).optional(),
    kind: z.enum(["local", "azure_containers"], { error: "use local or azure_containers; standalone does not exist here" }).optional(),
    names: z.record(z.string().regex(/^[A-Z_]+$/, "is not an upper-case name"), z.string()).optional(),
  });

  it("names the key's path, the value and the valid range", () => {
    assert.deepEqual(problems(schema, { section: { max_workers: 5000 } }), ["section.max_workers: 5000 is not valid: use a whole number from 1 to 1000"]);
    assert.deepEqual(problems(schema, { section: { max_workers: "many" } }), ['section.max_workers: "many" is not valid: use a whole number from 1 to 1000']);
  });

  it("keeps a schema's own wording of its rule", () => {
    assert.deepEqual(problems(schema, { kind: "standalone" }), [
      'kind: "standalone" is not valid: use local or azure_containers; standalone does not exist here',
    ]);
    assert.deepEqual(problems(schema, { names: { lower: "x" } }), ['names: name "lower" is not an upper-case name']);
  });

  it("suggests the nearest key for a misspelt one, at every level", () => {
    assert.deepEqual(problems(schema, { sectoin: {} }), ['unknown key "sectoin": did you mean "section"?']);
    assert.deepEqual(problems(schema, { section: { max_worker: 2 } }), ['section: unknown key "max_worker": did you mean "max_workers"?']);
    assert.deepEqual(problems(schema, { section: { colour: 2 } }), ['section: unknown key "colour": valid: max_workers, signing_key']);
  });

  it("never shows the value of a secret-named key", () => {
    const [line] = problems(schema, { section: { signing_key: "short-SECRET" } });
    assert.equal(line, "section.signing_key: the value (a secret, not shown) is not valid: use text of at least 16 characters");
    for (const name of ["signing_key", "signingKey", "storage_account_key", "accountKey", "connection_string", "docker_password", "dockerHubToken"]) {
      assert.ok(isSecretKey(name), name);
    }
    assert.ok(!isSecretKey("max_workers"));
  });
});
