import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { ENV } from "../../protocol/env.ts";
import type { CallBatchMessage } from "../../protocol/message.ts";
import { checkGrant, messageKey, signingIdentity } from "../../protocol/signing.ts";
import { callEnvironment } from "../../worker/call-key.ts";

const STACK_KEY = "stack-signing-key-0123456789abcdef";
// The fields callEnvironment reads; the rest of a batch message plays no part here.
const message = { executorId: "ab12-1", jobId: "M003", batch: 7, env: { USER_SETTING: "1" } } as unknown as CallBatchMessage;

describe("callEnvironment: the variables a call runs with", () => {
  it("without the stack's key, the job's extraEnv alone", () => {
    assert.deepEqual(callEnvironment(message, undefined, Date.now() + 60_000), { USER_SETTING: "1" });
  });

  it("with it, a call key for this call's batch until its deadline, never the stack's key itself", () => {
    const deadline = Date.now() + 60_000.5;
    const env = callEnvironment(message, STACK_KEY, deadline)!;
    assert.equal(env.USER_SETTING, "1");
    const token = env[ENV.signingKey];
    assert.ok(!token.includes(STACK_KEY));
    const { key, grant } = signingIdentity(token);
    assert.ok(grant !== undefined);
    assert.deepEqual(checkGrant(grant), { e: "ab12-1", j: "M003", b: 7, x: Math.ceil(deadline) });
    assert.equal(key, messageKey(STACK_KEY, grant));
    assert.throws(() => checkGrant(grant, deadline + 1), /expired/);
  });
});
