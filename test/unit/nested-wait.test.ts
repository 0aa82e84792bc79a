import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { installNestedWaitHook, NESTED_WAIT_HOOK, nestedWaitHook } from "../../protocol/nested-wait.ts";

describe("nested wait hook: how a call tells its worker it waits on a nested job", () => {
  it("is absent outside a worker, and found by its registered symbol once installed (as another module instance would)", () => {
    assert.equal(nestedWaitHook(), undefined);
    const waits: string[] = [];
    const hook = {
      begin: (what: string) => {
        waits.push(what);
        return () => waits.push(`end ${what}`);
      },
    };
    installNestedWaitHook(hook);
    try {
      assert.equal((globalThis as Record<symbol, unknown>)[Symbol.for("lithops-aca.nested-wait")], hook);
      assert.equal(NESTED_WAIT_HOOK, Symbol.for("lithops-aca.nested-wait"));
      nestedWaitHook()!.begin("4 calls of job ab12-1/M000")();
      assert.deepEqual(waits, ["4 calls of job ab12-1/M000", "end 4 calls of job ab12-1/M000"]);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[NESTED_WAIT_HOOK];
    }
  });
});
