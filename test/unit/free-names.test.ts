import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { freeNames } from "../../client/function-serializer/free-names.ts";

const free = (source: string) => [...freeNames(source)].sort();

/** The names a function reads from outside itself: what the serializer looks up in its scopes. */
describe("freeNames: what a function reads from the scopes around it", () => {
  it("a name declared inside, in any form, is not free; the same name read elsewhere outside is", () => {
    assert.deepEqual(free("((x) => { const Storage = 1; return Storage + x; })"), []);
    assert.deepEqual(free("((FunctionExecutor) => FunctionExecutor)"), []);
    assert.deepEqual(free("(async (n) => { const { FunctionExecutor: F, ...rest } = await import('lithops-aca'); return new F(rest) })"), []);
    assert.deepEqual(free("((x) => { if (x) { var v = 1 } return v })"), []);
    assert.deepEqual(free("((x) => { try { f() } catch ({ message: m = fallback }) { return m } })"), ["f", "fallback"]);
    assert.deepEqual(free("((x) => { { const limit = 1 } return limit })"), ["limit"]);
    assert.deepEqual(free("((x) => { function g() { return arguments } class K extends Base { #p = q; m() { return this.#p } } return [g, K] })"), [
      "Base",
      "q",
    ]);
  });

  it("members, keys and labels are not names; shorthand properties and computed keys are", () => {
    assert.deepEqual(free("((o) => ({ a: o.b, [key]: 1, short, nested: { deep: o?.c } }))"), ["key", "short"]);
    assert.deepEqual(free("((xs) => { outer: for (const x of xs) { if (x) break outer; } return import.meta })"), []);
  });

  it("a method's text, as V8 prints it, parses in an object literal", () => {
    assert.deepEqual(free("({ async *method(a = dflt) { yield super.x + a + outer } \n})"), ["dflt", "outer"]);
  });
});
